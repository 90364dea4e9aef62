/**
 * A budget of work units per second (a token bucket with an injected clock): it bounds how much
 * CPU frames nobody has authenticated yet can make this side spend, whatever their rate.
 * Pure: time is passed in, never read here.
 */
export class WorkBudget {
  #units: number;
  #updatedAt: number | undefined;

  /**
   * @param burst units available at once, and at the start
   * @param perSecond units that come back each second
   */
  constructor(
    readonly burst: number,
    readonly perSecond: number,
  ) {
    if (!(burst >= 1) || !(perSecond > 0)) throw new RangeError('burst must be >= 1 and perSecond > 0');
    this.#units = burst;
  }

  /** Spends `units` if all of them are available at `now` (ms); otherwise spends nothing. */
  spend(units: number, now: number): boolean {
    this.#refill(now);
    if (units > this.#units) return false;
    this.#units -= units;
    return true;
  }

  #refill(now: number): void {
    // A clock that goes backwards adds nothing (and takes nothing back).
    const elapsed = this.#updatedAt === undefined ? 0 : Math.max(0, now - this.#updatedAt);
    this.#units = Math.min(this.burst, this.#units + (elapsed * this.perSecond) / 1000);
    this.#updatedAt = Math.max(now, this.#updatedAt ?? now);
  }
}
