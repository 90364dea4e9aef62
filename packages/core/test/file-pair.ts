/**
 * Test helper: two FileTransfers wired through an in-memory "delivery layer" that the test
 * drives: payloads wait in a queue until delivered, and may be dropped, duplicated, reordered
 * or altered; the path can be cut and restored; timers fire when the test says so.
 */
import { concatBytes, partsOf } from '../src/bytes.ts';
import { CHUNK_OVERHEAD_BYTES } from '../src/protocol/file-envelope.ts';
import type { PayloadPort } from '../src/session/conversation.ts';
import type { FileSink, FileSource } from '../src/session/file-io.ts';
import { ACK_DELAY_MS } from '../src/session/file-receiver.ts';
import { FileTransfers, type FileTransfersOptions, type FileView } from '../src/session/file-transfer.ts';

export type Side = 'a' | 'b';
export const other = (side: Side): Side => (side === 'a' ? 'b' : 'a');

/** A source over bytes in memory, counting reads; `fail` makes reads reject. */
export function memorySource(bytes: Uint8Array): FileSource & { reads: number; fail: boolean } {
  return {
    size: bytes.length,
    reads: 0,
    fail: false,
    async read(offset, length) {
      this.reads += 1;
      if (this.fail) throw new Error('disk on fire');
      return bytes.slice(offset, offset + length);
    },
  };
}

/** What a sink saw, for assertions. */
export interface SinkLog {
  written: Uint8Array[];
  closed: boolean;
  aborted: boolean;
}

const turn = () => new Promise((resolve) => setImmediate(resolve));

/** A sink that keeps the bytes; `failWrites` makes writes reject; `slow` makes abort take a turn. */
export function memorySink(log: SinkLog, failWrites = false, slow = false): FileSink<Uint8Array> {
  return {
    async write(bytes) {
      if (failWrites) throw new Error('disk full');
      log.written.push(bytes);
    },
    async close() {
      log.closed = true;
      return concatBytes(...log.written);
    },
    async abort() {
      if (slow) await turn();
      log.aborted = true;
      log.written = [];
    },
  };
}

export interface PairOptions {
  /** Bytes of file data per chunk (the port's maxBytes is this plus the envelope overhead). */
  chunkBytes?: number;
  a?: Partial<FileTransfersOptions<Uint8Array>>;
  b?: Partial<FileTransfersOptions<Uint8Array>>;
  failWrites?: boolean;
  /** Opening and throwing away a sink take a turn of the event loop each, as on a disk. */
  slowSinks?: boolean;
}

export class FilePair {
  readonly transfers: Record<Side, FileTransfers<Uint8Array>>;
  /** The latest view of every transfer, per side. */
  readonly views: Record<Side, Map<string, FileView<Uint8Array>>> = { a: new Map(), b: new Map() };
  /** Every state each side went through, per transfer. */
  readonly states: Record<Side, Map<string, string[]>> = { a: new Map(), b: new Map() };
  readonly sinks: SinkLog[] = [];
  /** Payloads sent and not yet delivered, oldest first. */
  queue: { to: Side; bytes: Uint8Array }[] = [];
  /** Every payload each side sent. */
  readonly sent: Record<Side, Uint8Array[]> = { a: [], b: [] };
  timers: { callback: () => void; ms: number }[] = [];
  up = true;
  backlog = 0;
  /** Rewrites (or, returning undefined, drops) a payload as it is delivered. */
  tap: ((from: Side, bytes: Uint8Array) => Uint8Array | undefined) | undefined;
  /** Port sends not yet settled, at most, seen so far (how far bulk can run ahead of chat). */
  maxPendingSends = 0;
  #pendingSends = 0;
  #now = 0;

  constructor(readonly options: PairOptions = {}) {
    this.transfers = { a: this.#make('a'), b: this.#make('b') };
  }

  #make(side: Side): FileTransfers<Uint8Array> {
    const chunkBytes = this.options.chunkBytes ?? 16;
    const backlog = () => this.backlog;
    const port: PayloadPort = {
      maxBytes: CHUNK_OVERHEAD_BYTES + chunkBytes,
      get backlog() {
        return backlog();
      },
      send: async (payload) => {
        const bytes = concatBytes(...partsOf(payload));
        this.#pendingSends += 1;
        this.maxPendingSends = Math.max(this.maxPendingSends, this.#pendingSends);
        await Promise.resolve(); // sealing takes a turn
        this.#pendingSends -= 1;
        if (!this.up) return false;
        this.sent[side].push(bytes);
        this.queue.push({ to: other(side), bytes });
        return true;
      },
    };
    return new FileTransfers<Uint8Array>({
      port,
      timers: {
        set: (callback, ms) => {
          const timer = { callback, ms };
          this.timers.push(timer);
          return timer;
        },
        clear: (handle) => {
          this.timers = this.timers.filter((t) => t !== handle);
        },
      },
      now: () => this.#now,
      openSink: async () => {
        if (this.options.slowSinks) await turn();
        const log: SinkLog = { written: [], closed: false, aborted: false };
        this.sinks.push(log);
        return memorySink(log, this.options.failWrites, this.options.slowSinks);
      },
      onChange: (view) => {
        this.views[side].set(view.id, view);
        const states = this.states[side].get(view.id) ?? [];
        if (states[states.length - 1] !== view.state) states.push(view.state);
        this.states[side].set(view.id, states);
      },
      ...this.options[side],
    });
  }

  /** `side`'s page reloads: a fresh machine that knows no transfer (the path is up for it). */
  reload(side: Side): void {
    this.transfers[side] = this.#make(side);
    if (this.up) this.transfers[side].pathUp();
  }

  /** Hands every queued payload over at once, before either side gets a turn to answer. */
  deliverAllNow(): void {
    for (const item of this.queue.splice(0)) this.transfers[item.to].receive(item.bytes);
  }

  /** Starts both sides with the path up. */
  start(): this {
    this.transfers.a.pathUp();
    this.transfers.b.pathUp();
    return this;
  }

  view(side: Side, id: string): FileView<Uint8Array> {
    const view = this.views[side].get(id);
    if (!view) throw new Error(`no view of ${id} on ${side}`);
    return view;
  }

  /** Lets queued promise work (reads, seals, writes) run. */
  async settle(): Promise<void> {
    for (let i = 0; i < 20; i++) await new Promise((resolve) => setImmediate(resolve));
  }

  /** Delivers the payload at `index` in the queue (0: the oldest). */
  async deliver(index = 0): Promise<void> {
    const [item] = this.queue.splice(index, 1);
    if (!item) return;
    const bytes = this.tap ? this.tap(other(item.to), item.bytes) : item.bytes;
    if (bytes) this.transfers[item.to].receive(bytes);
    await this.settle();
  }

  /**
   * Delivers everything, in order, until nothing more is sent (bounded). Delayed
   * acknowledgements fire when nothing else is left, as they would after their 20 ms.
   */
  async run(maxSteps = 100_000): Promise<void> {
    await this.settle();
    for (let step = 0; step < maxSteps; step++) {
      if (this.queue.length === 0) {
        await this.settle();
        const acks = this.timers.filter((t) => t.ms === ACK_DELAY_MS);
        if (this.queue.length === 0 && acks.length === 0) return;
        this.timers = this.timers.filter((t) => !acks.includes(t));
        for (const timer of acks) timer.callback();
        continue;
      }
      await this.deliver();
    }
    throw new Error('the transfer did not settle');
  }

  /** The path breaks for both sides; what was in flight is lost. */
  cut(): void {
    this.up = false;
    this.queue = [];
    this.transfers.a.pathDown();
    this.transfers.b.pathDown();
  }

  restore(): void {
    this.up = true;
    this.transfers.a.pathUp();
    this.transfers.b.pathUp();
  }

  /** Fires every timer set so far (time moves on by the longest). */
  fireTimers(): void {
    const due = this.timers.splice(0);
    this.#now += Math.max(0, ...due.map((t) => t.ms));
    for (const timer of due) timer.callback();
  }

  advance(ms: number): void {
    this.#now += ms;
  }
}

/** Deterministic pseudo-random bytes (a file's content). */
export function fileBytes(length: number, seed = 1): Uint8Array {
  const out = new Uint8Array(length);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}
