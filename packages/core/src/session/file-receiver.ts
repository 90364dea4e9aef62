/**
 * One incoming file: an offer the user (or the auto-accept rule) accepts, chunks appended to the
 * sink strictly in order and hashed as they are, then the sender's digest compared with ours.
 * Only a match makes the file available; anything else throws away what was written.
 *
 *   offered ──accept──▶ receiving ──every chunk stored + digest──▶ done | failed (tampered)
 *      └─────────────────────┴──────────── cancel ──────────────▶ cancelled | failed
 *
 * Memory: chunks that arrive ahead of a gap are held, up to the sender's window; chunks waiting
 * for the sink are bounded the same way (the sender never has more than a window unconfirmed).
 * Anything beyond is dropped, and the sender sends it again.
 */
import { equalBytes } from '../bytes.ts';
import type { ErrorCode } from '../errors.ts';
import { chunkCount, type FileEnvelope } from '../protocol/file-envelope.ts';
import type { FileMeta, FileSink, IncrementalHash, OpenSink } from './file-io.ts';
import type { CancelledBy } from './file-view.ts';

export type ReceiverPhase = 'offered' | 'accepting' | 'receiving' | 'done' | 'failed' | 'cancelled';

/** Chunks stored between two acknowledgements in the normal flow (half the default window). */
export const ACK_EVERY = 4;
/**
 * A stored chunk is acknowledged at the latest this long after it was stored: when several
 * transfers share the sender's window, each may have fewer than ACK_EVERY chunks out.
 */
export const ACK_DELAY_MS = 20;

export interface FileReceiverHost<Result> {
  /** Sends an envelope to the sender. */
  send(envelope: FileEnvelope): void;
  /** Runs `callback` once after `ms` (the delayed acknowledgement). */
  later(callback: () => void, ms: number): void;
  /** Something a view shows changed (phase, bytes, result). */
  changed(): void;
  openSink: OpenSink<Result>;
}

export interface FileReceiverOptions {
  id: Uint8Array;
  meta: FileMeta;
  chunkBytes: number;
  /** Out-of-order chunks held at most (the sender's window). */
  window: number;
  hash: IncrementalHash;
}

export class FileReceiver<Result> {
  readonly id: Uint8Array;
  readonly meta: FileMeta;
  readonly count: number;
  phase: ReceiverPhase = 'offered';
  /** Why it failed, or who cancelled it, for the view. */
  code: ErrorCode | undefined;
  cancelledBy: CancelledBy | undefined;
  /** The file, once verified. */
  result: Result | undefined;
  /** Chunks 0 … stored − 1 are in the sink (and hashed). */
  stored = 0;
  readonly #options: FileReceiverOptions;
  readonly #host: FileReceiverHost<Result>;
  #sink: FileSink<Result> | undefined;
  /** The next chunk to hand to the sink (chunks before it are stored or being written). */
  #expected = 0;
  #held = new Map<number, Uint8Array>();
  #writes: Promise<void> = Promise.resolve();
  #digest: Uint8Array | undefined;
  #lastAck = 0;
  #ackPending = false;
  /** The `stored` value last announced because of a gap or a duplicate: once per value. */
  #hintedAt = -1;
  /** The digest matched and the sink is closing: no second verification. */
  #closing = false;
  #cancelReason: 'cancelled' | 'declined' = 'cancelled';

  constructor(options: FileReceiverOptions, host: FileReceiverHost<Result>) {
    this.#options = options;
    this.#host = host;
    this.id = options.id;
    this.meta = options.meta;
    this.count = chunkCount(options.meta.size, options.chunkBytes);
  }

  get active(): boolean {
    return this.phase === 'offered' || this.phase === 'accepting' || this.phase === 'receiving';
  }

  get storedBytes(): number {
    return Math.min(this.meta.size, this.stored * this.#options.chunkBytes);
  }

  /** The user accepted: open the sink, then ask for the chunks. */
  async accept(): Promise<void> {
    if (this.phase !== 'offered') return;
    this.phase = 'accepting';
    this.#host.changed();
    // Part of the queued work: `settled` waits for the sink to be open (or thrown away).
    const opening = this.#open();
    this.#writes = this.#writes.then(() => opening);
    await opening;
  }

  async #open(): Promise<void> {
    let sink: FileSink<Result>;
    try {
      sink = await this.#host.openSink(this.meta);
    } catch {
      return this.#fail('file-write-failed', 'failed');
    }
    if (this.phase !== 'accepting') return sink.abort(); // cancelled meanwhile
    this.#sink = sink;
    this.phase = 'receiving';
    this.#host.send({ type: 'accept', id: this.id, from: 0 });
    this.#host.changed();
    this.#verifyIfComplete(); // an empty file needs no chunk
  }

  /** The sender offered again (our `accept` was lost, or the path came back). */
  offeredAgain(): void {
    if (this.phase === 'receiving') this.#host.send({ type: 'accept', id: this.id, from: this.stored });
    else this.#answerFinished();
  }

  chunk(index: number, bytes: Uint8Array): void {
    if (this.phase !== 'receiving') return this.#answerFinished();
    if (index >= this.count || bytes.length !== this.#lengthOf(index)) {
      return this.#fail('transfer-failed', 'failed'); // the sender broke the protocol
    }
    const queued = this.#expected - this.stored;
    if (index === this.#expected && queued < 2 * this.#options.window) {
      this.#append(bytes);
      for (let next = this.#held.get(this.#expected); next; next = this.#held.get(this.#expected)) {
        this.#held.delete(this.#expected);
        this.#append(next);
      }
      return;
    }
    if (index > this.#expected && index < this.#expected + this.#options.window) {
      if (this.#held.size < this.#options.window) this.#held.set(index, bytes);
    }
    // A duplicate, or a gap: tell the sender where we are, once per position.
    if (this.#hintedAt !== this.stored) {
      this.#hintedAt = this.stored;
      this.#ack();
    }
  }

  /** The sender's digest of the whole file. */
  end(sha256: Uint8Array): void {
    if (this.phase !== 'receiving') return this.#answerFinished();
    this.#digest ??= sha256;
    this.#verifyIfComplete();
  }

  /** The path came back: tell the sender where to resume (or that we are done). */
  resume(): void {
    if (this.phase === 'receiving') this.#ack();
    else this.#answerFinished();
  }

  /** This side cancels (the user, or the conversation ended); `notify` tells the sender. */
  cancel(notify: boolean): void {
    if (!this.active) return;
    this.#cancelReason = this.phase === 'offered' ? 'declined' : 'cancelled';
    this.phase = 'cancelled';
    this.cancelledBy = 'you';
    this.#discard();
    if (notify) this.#host.send({ type: 'cancel', id: this.id, reason: this.#cancelReason });
    this.#host.changed();
  }

  /** Declined (rather than cancelled once accepted). */
  get declined(): boolean {
    return this.phase === 'cancelled' && this.#cancelReason === 'declined';
  }

  /**
   * Ends without telling the sender: it cancelled (`code` undefined) or failed on its side, or
   * this side refused the offer or ended (then the caller tells the sender, if it can).
   */
  stopped(code: ErrorCode | undefined): void {
    if (!this.active) return;
    this.phase = code ? 'failed' : 'cancelled';
    this.code = code;
    if (!code) this.cancelledBy = 'partner';
    this.#discard();
    this.#host.changed();
  }

  #lengthOf(index: number): number {
    const { chunkBytes } = this.#options;
    return index < this.count - 1 ? chunkBytes : this.meta.size - (this.count - 1) * chunkBytes;
  }

  /** Hashes the next chunk in order and queues it for the sink. */
  #append(bytes: Uint8Array): void {
    this.#expected += 1;
    this.#options.hash.update(bytes);
    this.#writes = this.#writes.then(async () => {
      if (this.phase !== 'receiving' || !this.#sink) return;
      try {
        await this.#sink.write(bytes);
      } catch {
        return this.#fail('file-write-failed', 'failed');
      }
      if (this.phase !== 'receiving') return;
      this.stored += 1;
      if (this.stored - this.#lastAck >= ACK_EVERY || this.stored === this.count) this.#ack();
      else this.#ackLater();
      this.#host.changed();
      this.#verifyIfComplete();
    });
  }

  #ack(): void {
    this.#lastAck = this.stored;
    this.#host.send({ type: 'ack', id: this.id, upTo: this.stored });
  }

  #ackLater(): void {
    if (this.#ackPending) return;
    this.#ackPending = true;
    this.#host.later(() => {
      this.#ackPending = false;
      if (this.phase === 'receiving' && this.stored > this.#lastAck) this.#ack();
    }, ACK_DELAY_MS);
  }

  #verifyIfComplete(): void {
    const sink = this.#sink;
    if (this.phase !== 'receiving' || this.#closing || !sink) return;
    if (this.stored < this.count || !this.#digest) return;
    // Only a file whose every byte matches the sender's digest is ever made available.
    if (!equalBytes(this.#options.hash.digest(), this.#digest)) return this.#fail('tampered', 'tampered');
    this.#closing = true;
    this.#writes = this.#writes.then(async () => {
      let result: Result;
      try {
        result = await sink.close();
      } catch {
        return this.#fail('file-write-failed', 'failed');
      }
      if (this.phase !== 'receiving') return; // cancelled while closing: it was discarded
      this.#sink = undefined;
      this.result = result;
      this.phase = 'done';
      this.#host.send({ type: 'done', id: this.id });
      this.#host.changed();
    });
  }

  /** After the end, an envelope for this transfer gets the final word again. */
  #answerFinished(): void {
    const { id } = this;
    if (this.phase === 'done') this.#host.send({ type: 'done', id });
    else if (this.phase === 'failed')
      this.#host.send({ type: 'cancel', id, reason: this.code === 'tampered' ? 'tampered' : 'failed' });
    else if (this.phase === 'cancelled') this.#host.send({ type: 'cancel', id, reason: this.#cancelReason });
  }

  #fail(code: ErrorCode, reason: 'failed' | 'tampered'): void {
    if (!this.active) return;
    this.phase = 'failed';
    this.code = code;
    this.#discard();
    this.#host.send({ type: 'cancel', id: this.id, reason });
    this.#host.changed();
  }

  #discard(): void {
    this.#held.clear();
    const sink = this.#sink;
    this.#sink = undefined;
    // After pending writes, so that nothing is written once the sink is gone.
    if (sink) this.#writes = this.#writes.then(() => sink.abort());
  }

  /** Settles once every queued write (and a discard) is done: for tests and for leaving. */
  get settled(): Promise<void> {
    return this.#writes;
  }
}
