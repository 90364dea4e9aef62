/**
 * node-files.ts: the disk sink writes every byte in order, makes the file available only on
 * `close` and only inside its folder, leaves nothing behind on `abort`, and a disk that fails
 * fails the sink (never a file that looks complete).
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

/** Set: every `write` on a file handle rejects with it (a disk that fails). */
const disk: { failWith?: Error } = {};

vi.mock('node:fs/promises', async (importOriginal) => {
  const real = await importOriginal<typeof import('node:fs/promises')>();
  const open: typeof real.open = async (...args) => {
    const handle = await real.open(...args);
    const write = handle.write.bind(handle) as (...args: unknown[]) => Promise<unknown>;
    handle.write = (async (...args: unknown[]) => {
      if (disk.failWith) throw disk.failWith;
      return write(...args);
    }) as typeof handle.write;
    return handle;
  };
  return { ...real, open };
});

const { diskSink } = await import('../src/node-files.ts');

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'duet-sink-'));
  disk.failWith = undefined;
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const meta = (name: string) => ({ name, size: 0, mime: 'application/octet-stream' });
const sha = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

describe('disk sink', () => {
  it('writes every chunk in order, whatever their sizes (property)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.uint8Array({ minLength: 0, maxLength: 70_000 }), { maxLength: 12 }),
        async (chunks) => {
          const sink = await diskSink(dir, meta('out.bin'));
          for (const chunk of chunks) await sink.write(chunk);
          const path = await sink.close();
          const expected = Buffer.concat(chunks);
          expect(sha(readFileSync(path))).toBe(sha(expected));
          rmSync(path);
        },
      ),
      { numRuns: 25 },
    );
    expect(readdirSync(dir)).toEqual([]);
  });

  it('makes the file available only on close, never over another, and only inside its folder', async () => {
    const first = await diskSink(dir, meta('report.txt'));
    await first.write(new TextEncoder().encode('one'));
    expect(readdirSync(dir).every((name) => name.endsWith('.part'))).toBe(true);
    const firstPath = await first.close();
    const second = await diskSink(dir, meta('report.txt'));
    await second.write(new TextEncoder().encode('two'));
    const secondPath = await second.close();
    expect(readdirSync(dir).sort()).toEqual(['report (1).txt', 'report.txt']);
    expect(readFileSync(firstPath, 'utf8')).toBe('one');
    expect(readFileSync(secondPath, 'utf8')).toBe('two');
    const outside = await diskSink(dir, meta('../escape.txt'));
    await outside.write(new TextEncoder().encode('three'));
    expect((await outside.close()).startsWith(dir + '/')).toBe(true);
    expect(readdirSync(join(dir, '..')).includes('escape.txt')).toBe(false);
  });

  it('abort leaves nothing behind, even with a write still under way', async () => {
    const sink = await diskSink(dir, meta('gone.bin'));
    await sink.write(new Uint8Array(60 * 1024));
    void sink.write(new Uint8Array(60 * 1024));
    await sink.abort();
    expect(readdirSync(dir)).toEqual([]);
    await expect(sink.write(new Uint8Array(1))).rejects.toThrow('the file is closed');
  });

  it('a disk that fails fails the next write or the close, and abort still cleans up', async () => {
    const sink = await diskSink(dir, meta('broken.bin'));
    disk.failWith = Object.assign(new Error('no space left on device'), { code: 'ENOSPC' });
    await sink.write(new Uint8Array(1024)); // copied; the disk has not answered yet
    await expect(sink.close()).rejects.toThrow('no space left on device');
    await expect(sink.write(new Uint8Array(1))).rejects.toThrow('no space left on device');
    await sink.abort();
    expect(readdirSync(dir)).toEqual([]);
  });
});
