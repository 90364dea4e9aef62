/** A token bucket with an injected clock: pure, so the limits can be tested without waiting. */
export class TokenBucket {
  #tokens: number;
  #updatedAt: number;

  /**
   * @param capacity tokens held at most, and at the start
   * @param refillMs milliseconds for one token to come back
   * @param now the clock's reading at creation
   */
  constructor(
    private readonly capacity: number,
    private readonly refillMs: number,
    now: number,
  ) {
    if (!(capacity >= 1) || !(refillMs > 0)) throw new RangeError('capacity must be >= 1 and refillMs > 0');
    this.#tokens = capacity;
    this.#updatedAt = now;
  }

  /** Takes one token if there is one. */
  take(now: number): boolean {
    this.#refill(now);
    if (this.#tokens < 1) return false;
    this.#tokens -= 1;
    return true;
  }

  /**
   * Takes `amount` tokens whether or not they are there (the bucket may go into debt: the frame
   * has been read already); returns the milliseconds until the debt is paid, 0 if there is none.
   */
  charge(now: number, amount: number): number {
    this.#refill(now);
    this.#tokens -= amount;
    return this.#tokens >= 0 ? 0 : Math.ceil(-this.#tokens * this.refillMs);
  }

  /** Milliseconds until the next token, 0 if one is there now. */
  waitMs(now: number): number {
    this.#refill(now);
    return this.#tokens >= 1 ? 0 : Math.ceil((1 - this.#tokens) * this.refillMs);
  }

  /** Milliseconds until the bucket is full again, 0 if it is. */
  fullInMs(now: number): number {
    this.#refill(now);
    return Math.ceil((this.capacity - this.#tokens) * this.refillMs);
  }

  #refill(now: number): void {
    // A clock that goes backwards adds nothing (and takes nothing back).
    const elapsed = Math.max(0, now - this.#updatedAt);
    this.#tokens = Math.min(this.capacity, this.#tokens + elapsed / this.refillMs);
    this.#updatedAt = Math.max(now, this.#updatedAt);
  }
}
