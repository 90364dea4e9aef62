/** Latency samples and their percentiles. */

/** A growable list of numbers (milliseconds), capped so that a long run cannot eat the heap. */
export class Samples {
  #values = new Float64Array(1024);
  #length = 0;

  constructor(private readonly cap = 2_000_000) {}

  add(value: number): void {
    if (this.#length === this.#values.length) {
      if (this.#length >= this.cap) return;
      const grown = new Float64Array(Math.min(this.cap, this.#length * 2));
      grown.set(this.#values);
      this.#values = grown;
    }
    this.#values[this.#length++] = value;
  }

  get count(): number {
    return this.#length;
  }

  /** The nearest-rank percentiles `ps` (0–100); NaN for no samples. */
  percentiles(...ps: number[]): number[] {
    const sorted = this.#values.slice(0, this.#length).sort();
    return ps.map((p) => {
      if (sorted.length === 0) return Number.NaN;
      const rank = Math.ceil((p / 100) * sorted.length);
      return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1] ?? Number.NaN;
    });
  }
}

/** CPU time (user + system) between two `process.cpuUsage()` readings, in microseconds. */
export function cpuMicros(before: NodeJS.CpuUsage, after: NodeJS.CpuUsage): number {
  return after.user - before.user + (after.system - before.system);
}
