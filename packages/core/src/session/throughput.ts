/**
 * Speed and time left for a transfer's progress bar, from (time, bytes) readings. Pure: the
 * clock's readings are passed in. The speed is measured over the last few seconds, so that it
 * follows a link that gets faster or slower, and is unknown until there is enough to go on.
 */

/** Readings older than this no longer count towards the speed. */
export const THROUGHPUT_WINDOW_MS = 3_000;
/** Below this span of readings, the speed is not known yet. */
const MIN_SPAN_MS = 500;

export class Throughput {
  #readings: { at: number; bytes: number }[] = [];

  /** `bytes` confirmed so far, at time `at` (ms). */
  record(at: number, bytes: number): void {
    const last = this.#readings[this.#readings.length - 1];
    if (last && bytes < last.bytes) this.#readings = []; // a rewind: start measuring again
    this.#readings.push({ at, bytes });
    // Stryker disable next-line EqualityOperator: with two readings the second is this one (at - at = 0): `>= 2` changes nothing
    while (this.#readings.length > 2 && at - this.#readings[1]!.at >= THROUGHPUT_WINDOW_MS) {
      this.#readings.shift();
    }
  }

  /** Bytes a second over the recent window, or undefined while there is too little to tell. */
  bytesPerSecond(now: number): number | undefined {
    const first = this.#readings[0];
    const last = this.#readings[this.#readings.length - 1];
    // Stryker disable next-line LogicalOperator: both exist or neither does (`&&` is the same test)
    if (!first || !last) return undefined;
    // Time since the last reading counts too: a stalled transfer's speed falls.
    const span = Math.max(now, last.at) - first.at;
    if (span < MIN_SPAN_MS) return undefined;
    return ((last.bytes - first.bytes) * 1000) / span;
  }

  /** Seconds until `total` at the current speed, or undefined if the speed is unknown or 0. */
  secondsLeft(now: number, total: number): number | undefined {
    const speed = this.bytesPerSecond(now);
    const last = this.#readings[this.#readings.length - 1];
    if (!speed || !last) return undefined;
    return Math.max(0, total - last.bytes) / speed;
  }
}
