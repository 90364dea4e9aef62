/**
 * The I/O a file transfer needs, as three small interfaces, so that the browser and Node differ
 * only here: a source the sender reads in slices (never the whole file), a sink the receiver
 * appends verified-in-order chunks to, and an incremental SHA-256.
 *
 * The Blob implementations below are isomorphic (browsers, and Node ≥ 20 whose `Blob` and
 * `fs.openAsBlob` give the same API over a file on disk). Node's disk sink is in the Node client.
 */
import { sha256 } from '@noble/hashes/sha2.js';

/** What the receiver is told about a file before it accepts it. */
export interface FileMeta {
  /** As the sender's system named it; untrusted text (render as text, sanitise for saving). */
  readonly name: string;
  readonly size: number;
  /** As the sender's system reported it; untrusted, may be empty. */
  readonly mime: string;
}

/** A file to send, read in slices. */
export interface FileSource {
  readonly size: number;
  /** `length` bytes from `offset` (fewer only at the end). Rejects if the file cannot be read. */
  read(offset: number, length: number): Promise<Uint8Array>;
}

/** Where a received file goes: chunks are appended in order, then kept or thrown away. */
export interface FileSink<Result> {
  /** Appends the next bytes. Rejects if they cannot be stored. */
  write(bytes: Uint8Array): Promise<void>;
  /** Every byte arrived and the digest matched: the file becomes available. */
  close(): Promise<Result>;
  /** Throws away everything written (cancelled, tampered, failed). Never rejects. */
  abort(): Promise<void>;
}

/** Opens a sink for a file the user (or the auto-accept rule) accepted. */
export type OpenSink<Result> = (meta: FileMeta) => Promise<FileSink<Result>>;

export interface IncrementalHash {
  update(bytes: Uint8Array): void;
  /** The digest of everything given to `update`; the hash is finished afterwards. */
  digest(): Uint8Array;
}

/** SHA-256 from @noble/hashes: the portable default (Node may pass its native one). */
export function sha256Hash(): IncrementalHash {
  const hash = sha256.create();
  return {
    update: (bytes) => void hash.update(bytes),
    digest: () => hash.digest(),
  };
}

/** A Blob (or a browser `File`) as a source: each read is one `slice`. */
export function blobSource(blob: Blob): FileSource {
  return {
    size: blob.size,
    async read(offset, length) {
      return new Uint8Array(await blob.slice(offset, offset + length).arrayBuffer());
    },
  };
}

/** Bytes gathered before they are handed to a Blob part. */
export const BLOB_PART_BYTES = 1024 * 1024;

/**
 * A sink that assembles a Blob. Chunks are gathered into parts of about 1 MiB, each handed to a
 * Blob at once, so that the bytes leave the JavaScript heap for the browser's blob storage
 * (which may keep them on disk) instead of piling up as arrays.
 */
export function blobSink(mime: string): FileSink<Blob> {
  let parts: Blob[] = [];
  let pending: Uint8Array[] = [];
  let pendingBytes = 0;
  const seal = () => {
    if (pendingBytes === 0) return;
    parts.push(new Blob(pending as BlobPart[]));
    pending = [];
    pendingBytes = 0;
  };
  return {
    async write(bytes) {
      pending.push(bytes);
      pendingBytes += bytes.length;
      if (pendingBytes >= BLOB_PART_BYTES) seal();
    },
    async close() {
      seal();
      const blob = new Blob(parts, { type: mime });
      parts = [];
      return blob;
    },
    async abort() {
      parts = [];
      pending = [];
      pendingBytes = 0;
    },
  };
}
