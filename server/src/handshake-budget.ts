/**
 * How many handshake attempts each room gets. Each attempt is one online passphrase guess for
 * whoever sits in the other seat, so the budget bounds guessing. Budgets outlive their rooms
 * (`memoryMs`), so that leaving and joining again does not refill them.
 */
import { TokenBucket } from './token-bucket.ts';

export interface HandshakeBudgetOptions {
  burst: number;
  refillMs: number;
  memoryMs: number;
  /** Rooms remembered at most; the least recently used is forgotten first. */
  maxRooms: number;
}

export type AttemptDecision = { granted: true; attempt: number } | { granted: false; retryAfterMs: number };

interface RoomBudget {
  bucket: TokenBucket;
  attempts: number;
  lastUsed: number;
}

export class HandshakeBudget {
  readonly #rooms = new Map<string, RoomBudget>();

  constructor(private readonly options: HandshakeBudgetOptions) {}

  /** Takes one attempt for `room` at time `now`; the attempt number counts up per room. */
  take(room: string, now: number): AttemptDecision {
    this.#forgetOld(now);
    let budget = this.#rooms.get(room);
    if (budget) this.#rooms.delete(room); // re-inserted below: Map order is least recently used first
    budget ??= {
      bucket: new TokenBucket(this.options.burst, this.options.refillMs, now),
      attempts: 0,
      lastUsed: now,
    };
    budget.lastUsed = now;
    this.#rooms.set(room, budget);
    if (this.#rooms.size > this.options.maxRooms) {
      const oldest = this.#rooms.keys().next().value;
      if (oldest !== undefined) this.#rooms.delete(oldest);
    }
    if (!budget.bucket.take(now)) return { granted: false, retryAfterMs: budget.bucket.waitMs(now) };
    budget.attempts += 1;
    return { granted: true, attempt: budget.attempts };
  }

  get size(): number {
    return this.#rooms.size;
  }

  #forgetOld(now: number): void {
    for (const [room, budget] of this.#rooms) {
      if (now - budget.lastUsed < this.options.memoryMs) break; // the rest are newer
      this.#rooms.delete(room);
    }
  }
}
