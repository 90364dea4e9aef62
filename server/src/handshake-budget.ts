/**
 * How many handshake attempts each room gets. Each `modern` attempt is one online passphrase
 * guess for whoever sits in the other seat, so this budget is what bounds guessing
 * (docs/protocol.md, "The handshake budget"). Pure: the clock is passed in.
 *
 * Budgets are keyed by room code and outlive their rooms (`memoryMs` after last use), so that
 * leaving and joining again does not refill them. The map is bounded by `maxRooms`; to stay
 * bounded without becoming a way around the budget, only a budget whose bucket has refilled
 * completely (so that forgetting it changes nothing) is ever pushed out early. When the least
 * recently used budget is still refilling, a new room's request is refused until it is full.
 */
import { TokenBucket } from './token-bucket.ts';

export interface HandshakeBudgetOptions {
  /** Attempts a room may use at once. */
  burst: number;
  /** One attempt comes back every this many milliseconds. */
  refillMs: number;
  /** A room's budget is forgotten this long after its last use. */
  memoryMs: number;
  /** Room budgets remembered at most. */
  maxRooms: number;
}

export type AttemptDecision = { granted: true; attempt: number } | { granted: false; retryAfterMs: number };

interface RoomBudget {
  readonly bucket: TokenBucket;
  /** Attempts granted so far: the `attempt` number of the last grant. */
  attempts: number;
  lastUsed: number;
}

export class HandshakeBudget {
  /** In order of last use, least recent first (a Map keeps insertion order). */
  readonly #rooms = new Map<string, RoomBudget>();

  constructor(private readonly options: HandshakeBudgetOptions) {
    if (!(options.maxRooms >= 1)) throw new RangeError('maxRooms must be at least 1');
  }

  /** Takes one attempt for `room` at time `now`; granted attempts are numbered from 1 per room. */
  take(room: string, now: number): AttemptDecision {
    this.#forgetOld(now);
    let budget = this.#rooms.get(room);
    if (budget) {
      this.#rooms.delete(room); // re-inserted below, as the most recently used
    } else {
      const refused = this.#makeRoom(now);
      if (refused) return refused;
      budget = {
        bucket: new TokenBucket(this.options.burst, this.options.refillMs, now),
        attempts: 0,
        lastUsed: now,
      };
    }
    budget.lastUsed = now;
    this.#rooms.set(room, budget);
    if (!budget.bucket.take(now)) return { granted: false, retryAfterMs: budget.bucket.waitMs(now) };
    budget.attempts += 1;
    return { granted: true, attempt: budget.attempts };
  }

  /** Budgets currently remembered. */
  get size(): number {
    return this.#rooms.size;
  }

  /** Frees a place for a new room, or says how long until one is free. */
  #makeRoom(now: number): AttemptDecision | undefined {
    if (this.#rooms.size < this.options.maxRooms) return undefined;
    const [oldestRoom, oldest] = this.#rooms.entries().next().value ?? [];
    if (oldestRoom === undefined || oldest === undefined) return undefined;
    const wait = oldest.bucket.fullInMs(now);
    if (wait > 0) return { granted: false, retryAfterMs: wait };
    this.#rooms.delete(oldestRoom);
    return undefined;
  }

  #forgetOld(now: number): void {
    for (const [room, budget] of this.#rooms) {
      if (now - budget.lastUsed < this.options.memoryMs) break; // the rest were used later
      this.#rooms.delete(room);
    }
  }
}
