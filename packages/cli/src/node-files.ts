/**
 * File I/O for the Node client: a source that reads a file on disk in slices, a sink that
 * streams a received file to disk, and Node's native SHA-256. The transfer itself is core's
 * (session/file-transfer.ts), exactly as in the browser.
 *
 * A received file is written to a hidden `.part` file next to where it will go, and renamed
 * only once its SHA-256 matched; anything else (cancel, tampered, an error, the client leaving)
 * deletes the `.part` file, so that nothing half-received is left behind.
 */
import { createHash, randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { copyFile, link, open, unlink, type FileHandle } from 'node:fs/promises';
import { basename, extname, join } from 'node:path';
import type { FileMeta, FileSink, FileSource, IncrementalHash } from '@duet/core/session/file-io';
import { safeFileName } from '@duet/core/session/file-name';
import { StagedWriter } from './staged-writer.ts';

/** Opens `path` for sending; close it with `close()` once the transfer has ended. */
export async function diskSource(
  path: string,
): Promise<FileSource & { name: string; close(): Promise<void> }> {
  const handle = await open(path, 'r');
  const { size } = await handle.stat();
  return {
    name: basename(path),
    size,
    async read(offset, length) {
      const buffer = Buffer.allocUnsafe(length);
      let filled = 0;
      while (filled < length) {
        const { bytesRead } = await handle.read(buffer, filled, length - filled, offset + filled);
        if (bytesRead === 0) break; // the file got shorter: the transfer notices the short read
        filled += bytesRead;
      }
      return new Uint8Array(buffer.buffer, buffer.byteOffset, filled);
    },
    close: () => handle.close(),
  };
}

/** Node's native SHA-256, many times faster than a JavaScript one for large files. */
export function nodeSha256(): IncrementalHash {
  const hash = createHash('sha256');
  return {
    update: (bytes) => void hash.update(bytes),
    digest: () => new Uint8Array(hash.digest()),
  };
}

/**
 * A sink that streams to `dir`: the file is written as `.duet-<random>.part` and, once
 * verified, linked under its sanitised name (never over an existing file: `name (1).ext`, …).
 * Resolves to the final path. Chunks are copied into two reused buffers and written in batches
 * (staged-writer.ts says why); a failed disk write fails the next `write` or the `close`.
 */
export async function diskSink(dir: string, meta: FileMeta): Promise<FileSink<string>> {
  const partPath = join(dir, `.duet-${randomBytes(8).toString('hex')}.part`);
  let handle: FileHandle | undefined = await open(
    partPath,
    constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL,
    0o600,
  );
  const writer = new StagedWriter(async (bytes) => {
    let written = 0;
    while (written < bytes.length) {
      if (!handle) throw new Error('the file is closed');
      const { bytesWritten } = await handle.write(bytes, written, bytes.length - written);
      written += bytesWritten;
    }
  });
  let finalPath: string | undefined;
  const release = async () => {
    const open = handle;
    handle = undefined;
    await open?.close();
  };
  return {
    write: (bytes) => writer.append(bytes),
    async close() {
      await writer.flush();
      await handle?.sync();
      await release();
      finalPath = await linkUnique(partPath, dir, safeFileName(meta.name));
      await unlink(partPath);
      return finalPath;
    },
    async abort() {
      await writer.stop();
      await release().catch(() => undefined);
      await unlink(partPath).catch(() => undefined);
      // Cancelled after it was complete (the very end of a race): it goes too.
      if (finalPath) await unlink(finalPath).catch(() => undefined);
    },
  };
}

/** Links `from` as `dir/name`, or `dir/name (n).ext` if taken; returns the path used. */
async function linkUnique(from: string, dir: string, name: string): Promise<string> {
  const extension = extname(name);
  const stem = name.slice(0, name.length - extension.length);
  for (let n = 0; n < 1000; n++) {
    const path = join(dir, n === 0 ? name : `${stem} (${n})${extension}`);
    try {
      await link(from, path); // fails if `path` exists: never overwrites
      return path;
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'EEXIST') continue;
      if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EXDEV') throw error;
    }
    try {
      await copyFile(from, path, constants.COPYFILE_EXCL); // a file system without hard links
      return path;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
  }
  throw new Error('no free file name');
}
