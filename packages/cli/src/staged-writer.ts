/**
 * Appends to a file through two staging buffers allocated once and reused for the whole file:
 * bytes are copied into one while the other is on its way to the disk, so a received file costs
 * a few large writes rather than one per chunk.
 *
 * Why copy: a chunk held until the disk took it lives through the collector's young-generation
 * passes, is promoted, and its 60 KiB are freed only by a full collection. In workload h that
 * made full collections a fifth of the receiver's CPU (docs/benchmarks.md). Copied at once, each
 * chunk dies young, and the staging buffers are the only long-lived memory.
 *
 * `append` resolves once the bytes are copied (the writer owns them), or, when both buffers are
 * busy, once the disk took the older one. A failed write fails every later call, so a file
 * that could not be written is never taken for complete.
 */

/** Writes all of `bytes` at the end of the file (the caller loops over short writes). */
export type WriteAll = (bytes: Uint8Array) => Promise<void>;

/** Each of the two staging buffers. */
export const STAGE_BYTES = 512 * 1024;

export class StagedWriter {
  readonly #writeAll: WriteAll;
  readonly #stages: [Uint8Array, Uint8Array];
  /** The stage being filled, and how much of it is. */
  #filling = 0;
  #filled = 0;
  /** The other stage's write, while it runs. */
  #writing: Promise<void> | undefined;
  #failure: unknown;
  #stopped = false;

  constructor(writeAll: WriteAll, stageBytes = STAGE_BYTES) {
    this.#writeAll = writeAll;
    this.#stages = [new Uint8Array(stageBytes), new Uint8Array(stageBytes)];
  }

  /** Takes `bytes` (copied: the caller may reuse them once this resolves). */
  async append(bytes: Uint8Array): Promise<void> {
    let offset = 0;
    while (offset < bytes.length) {
      this.#check();
      const stage = this.#stages[this.#filling]!;
      const count = Math.min(bytes.length - offset, stage.length - this.#filled);
      stage.set(bytes.subarray(offset, offset + count), this.#filled);
      this.#filled += count;
      offset += count;
      if (this.#filled === stage.length) await this.#sendFull();
    }
    // Nothing on its way: what was gathered goes now (at rest, a chunk is written at once).
    if (this.#writing === undefined && this.#filled > 0) this.#startWrite();
    this.#check();
  }

  /** Resolves once every appended byte is on disk; rejects if any write failed. */
  async flush(): Promise<void> {
    while (this.#writing !== undefined || this.#filled > 0) {
      if (this.#writing !== undefined) await this.#writing;
      else this.#startWrite();
      this.#check();
    }
    this.#check();
  }

  /** Writes nothing more; resolves once the write under way (if any) has ended. Never rejects. */
  async stop(): Promise<void> {
    this.#stopped = true;
    this.#filled = 0;
    await this.#writing;
  }

  /** The filling stage is full: it goes once the other one is free (the end of a write may send it itself). */
  async #sendFull(): Promise<void> {
    while (this.#filled === this.#stages[this.#filling]!.length) {
      if (this.#writing === undefined) this.#startWrite();
      else await this.#writing;
      this.#check();
    }
  }

  #check(): void {
    if (this.#failure !== undefined) throw this.#failure;
    if (this.#stopped) throw new Error('the file is closed');
  }

  /** Sends the filling stage to the disk and starts filling the other (which must be free). */
  #startWrite(): void {
    const stage = this.#stages[this.#filling]!.subarray(0, this.#filled);
    this.#filling = 1 - this.#filling;
    this.#filled = 0;
    this.#writing = this.#writeAll(stage).then(
      () => {
        this.#writing = undefined;
        // What arrived meanwhile follows at once.
        if (this.#filled > 0 && !this.#stopped && this.#failure === undefined) this.#startWrite();
      },
      (error: unknown) => {
        this.#failure ??= error;
        this.#writing = undefined;
      },
    );
  }
}
