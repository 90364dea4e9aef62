/**
 * One outgoing file: offer, then chunks within a window of unconfirmed ones, then the digest,
 * until the receiver says `done`. The source is read one slice at a time, in order, and hashed
 * as each chunk is first read, so the file is read once and never held whole.
 *
 *   offered ──accept──▶ sending ──every chunk acked──▶ verifying ──done──▶ done
 *      └──────────────────┴──────────── cancel ─────────────┴──▶ cancelled | failed
 *
 * Whatever is unconfirmed goes out again on `rewind` (the path came back, or nothing moved for
 * a while): the offer if it was not accepted, the chunks from the last one the receiver
 * confirmed, the digest if only `done` is missing.
 */
import { duetError, type ErrorCode } from '../errors.ts';
import { chunkCount, type FileEnvelope } from '../protocol/file-envelope.ts';
import type { FileMeta, FileSource, IncrementalHash } from './file-io.ts';
import type { CancelledBy } from './file-view.ts';

export type SenderPhase = 'offered' | 'sending' | 'verifying' | 'done' | 'failed' | 'cancelled';

export interface FileSenderOptions {
  id: Uint8Array;
  source: FileSource;
  meta: FileMeta;
  chunkBytes: number;
  /** Chunks sent and not yet confirmed, at most. */
  window: number;
  hash: IncrementalHash;
}

/** What an envelope from the receiver changed. */
export type SenderProgress = 'progress' | 'rewound' | 'none';

export class FileSender {
  readonly id: Uint8Array;
  readonly meta: FileMeta;
  readonly count: number;
  phase: SenderPhase = 'offered';
  /** Chunks 0 … acked − 1 are stored at the receiver. */
  acked = 0;
  /** How it ended, if it did not end `done`. */
  code: ErrorCode | undefined;
  cancelledBy: CancelledBy | undefined;
  declined = false;
  readonly #options: FileSenderOptions;
  /** The next chunk to send. */
  #next = 0;
  /** Chunks 0 … hashedUpTo − 1 have been hashed (each exactly once, in order). */
  #hashedUpTo = 0;
  #digest: Uint8Array | undefined;
  #offerDue = true;
  #endDue = false;
  /** The `acked` value at which the last fast rewind happened: once per stall point. */
  #rewoundAt = -1;

  constructor(options: FileSenderOptions) {
    this.#options = options;
    this.id = options.id;
    this.meta = options.meta;
    this.count = chunkCount(options.meta.size, options.chunkBytes);
  }

  get active(): boolean {
    return this.phase === 'offered' || this.phase === 'sending' || this.phase === 'verifying';
  }

  /** Bytes the receiver has confirmed. */
  get confirmedBytes(): number {
    return Math.min(this.meta.size, this.acked * this.#options.chunkBytes);
  }

  /** Chunks sent and not yet confirmed. */
  get inFlight(): number {
    return Math.max(0, this.#next - this.acked);
  }

  /**
   * The next envelope to send now, or undefined (waiting for the receiver). A chunk only if
   * `allowance` (chunks the caller lets all transfers add) is positive. Reads the source for a
   * chunk; rejects with DuetError('file-read-failed') if it cannot. Call one at a time.
   */
  async next(allowance = Infinity): Promise<FileEnvelope | undefined> {
    const { id } = this;
    if (this.phase === 'offered') {
      if (!this.#offerDue) return undefined;
      this.#offerDue = false;
      const { size, mime, name } = this.meta;
      return { type: 'offer', id, size, chunkBytes: this.#options.chunkBytes, mime, name };
    }
    if (this.phase !== 'sending' && this.phase !== 'verifying') return undefined;
    if (this.#next < this.count && this.inFlight < this.#options.window && allowance > 0) {
      const index = this.#next++;
      const bytes = await this.#read(index);
      if (index === this.count - 1) this.#endDue = true;
      return { type: 'chunk', id, index, bytes };
    }
    if (this.#next >= this.count && this.#endDue && this.#digest) {
      this.#endDue = false;
      return { type: 'end', id, sha256: this.#digest };
    }
    return undefined;
  }

  /** The receiver accepted, wanting chunks from `from` on (0, or what it already has). */
  accepted(from: number): SenderProgress {
    if (this.phase !== 'offered') return this.confirmed(from);
    this.phase = 'sending';
    this.acked = this.#next = Math.min(from, this.count);
    if (this.count === 0) this.#digest = this.#options.hash.digest();
    this.#endDue = this.acked >= this.count;
    this.#settle();
    return 'progress';
  }

  /** The receiver has stored chunks 0 … upTo − 1 (an `ack`). */
  confirmed(upTo: number): SenderProgress {
    if (this.phase !== 'sending' && this.phase !== 'verifying') return 'none';
    if (upTo > this.count) throw duetError('bad-frame', 'ack beyond the last chunk');
    if (upTo > this.acked) {
      this.acked = upTo;
      if (this.#next < upTo) this.#next = upTo;
      this.#settle();
      return 'progress';
    }
    // No progress while chunks are out: one was lost (the receiver saw a gap). Send again from
    // the confirmed one, once per stall point; the retransmission timer covers the rest.
    if (upTo === this.acked && this.#next > this.acked && this.#rewoundAt !== this.acked) {
      this.#rewoundAt = this.acked;
      this.#next = this.acked;
      return 'rewound';
    }
    return 'none';
  }

  /** The receiver verified the digest: the file arrived whole. */
  finished(): void {
    if (!this.active) return;
    this.acked = this.count;
    this.phase = 'done';
  }

  /** Ends the transfer: cancelled (by whom; an offer may be declined) or failed (why). */
  stop(end: { cancelledBy: CancelledBy; declined?: boolean } | { code: ErrorCode }): void {
    if (!this.active) return;
    if ('code' in end) {
      this.phase = 'failed';
      this.code = end.code;
    } else {
      this.phase = 'cancelled';
      this.cancelledBy = end.cancelledBy;
      this.declined = end.declined ?? false;
    }
  }

  /** Everything unconfirmed goes out again. */
  rewind(): void {
    if (this.phase === 'offered') this.#offerDue = true;
    if (this.phase !== 'sending' && this.phase !== 'verifying') return;
    this.#next = this.acked;
    this.#rewoundAt = -1;
    if (this.acked >= this.count) this.#endDue = true;
  }

  #settle(): void {
    if (this.phase === 'sending' && this.acked >= this.count) this.phase = 'verifying';
  }

  async #read(index: number): Promise<Uint8Array> {
    const { chunkBytes } = this.#options;
    const offset = index * chunkBytes;
    const length = Math.min(chunkBytes, this.meta.size - offset);
    let bytes: Uint8Array;
    try {
      bytes = await this.#options.source.read(offset, length);
    } catch (cause) {
      throw duetError('file-read-failed', 'the file could not be read', cause);
    }
    if (bytes.length !== length) throw duetError('file-read-failed', 'the file changed while it was sent');
    // Each chunk is hashed when it is first read; a re-read after a rewind is not hashed again.
    if (index === this.#hashedUpTo) {
      this.#options.hash.update(bytes);
      this.#hashedUpTo += 1;
      if (this.#hashedUpTo === this.count) this.#digest = this.#options.hash.digest();
    }
    return bytes;
  }
}
