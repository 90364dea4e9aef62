/**
 * How many handshake attempts each room gets. Each `modern` attempt is one online passphrase
 * guess for whoever sits in the other seat, so this budget is what bounds guessing
 * (docs/protocol.md, "The handshake budget"). Pure: the clock is passed in.
 *
 * Budgets are keyed by room code and outlive their rooms (`memoryMs` after last use), so that
 * leaving and joining again does not refill them. The table is bounded (`maxRooms`), and must
 * neither become a way around the budget nor a way to refuse everyone (docs/security.md, "What
 * we defend against at the relay"):
 * - a new budget is charged to the client that caused it, its address and its connection, until
 *   it has refilled completely; each may hold only so many (`perAddress`, `perConnection`). A
 *   budget that has refilled is worth no more than none, so draining it again is charged anew;
 * - new budgets are created at most `newPerSecond` a second, relay-wide;
 * - when the table is full, the budget that will be full soonest is forgotten: at no cost when
 *   it is full already, which is the rule as long as fewer than `maxRooms / perAddress`
 *   addresses keep budgets drained. A fresh room is never refused because the table is full.
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
  /** Budgets still refilling that one client address may have caused. */
  perAddress: number;
  /** Budgets still refilling that one connection may have caused. */
  perConnection: number;
  /** New budgets a second, for the whole relay. */
  newPerSecond: number;
}

/** Who asks for an attempt: a client address and a connection id. */
export interface Asker {
  readonly address: string;
  readonly connection: string;
}

export type AttemptDecision = { granted: true; attempt: number } | { granted: false; retryAfterMs: number };

interface RoomBudget {
  readonly bucket: TokenBucket;
  /** Attempts granted so far: the `attempt` number of the last grant. */
  attempts: number;
  lastUsed: number;
  /** The charges (see `#charges`) this budget counts against while it refills. */
  chargedTo: string[];
}

/** Charge keys: an address and a connection never share one. */
const addressKey = (asker: Asker) => `a ${asker.address}`;
const connectionKey = (asker: Asker) => `c ${asker.connection}`;

export class HandshakeBudget {
  /** In order of last use, least recent first (a Map keeps insertion order). */
  readonly #rooms = new Map<string, RoomBudget>();
  /** Budgets still refilling, by the address or connection that caused them. */
  readonly #charges = new Map<string, Set<RoomBudget>>();
  readonly #creations: TokenBucket;
  #evictedEarly = 0;

  constructor(private readonly options: HandshakeBudgetOptions) {
    if (!(options.maxRooms >= 1)) throw new RangeError('maxRooms must be at least 1');
    // Starts full whatever the clock reads (a bucket never holds more than its capacity).
    this.#creations = new TokenBucket(options.newPerSecond, 1000 / options.newPerSecond, 0);
  }

  /**
   * Takes one attempt for `room` at time `now`; granted attempts are numbered from 1 per room.
   * A budget that has refilled completely is as good as none, so taking from it again is
   * charged to `asker` as if it were new.
   */
  take(room: string, asker: Asker, now: number): AttemptDecision {
    this.#forgetOld(now);
    let budget = this.#rooms.get(room);
    if (!budget || budget.bucket.fullInMs(now) === 0) {
      const refused = this.#admit(asker, now, budget === undefined);
      if (refused) return refused;
      budget ??= {
        bucket: new TokenBucket(this.options.burst, this.options.refillMs, now),
        attempts: 0,
        lastUsed: now,
        chargedTo: [],
      };
      this.#release(budget);
      budget.chargedTo = [addressKey(asker), connectionKey(asker)];
      for (const key of budget.chargedTo) this.#charged(key).add(budget);
    }
    this.#rooms.delete(room); // (re-)inserted as the most recently used
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

  /** Budgets forgotten while still refilling, because the table was full of them. */
  get evictedEarly(): number {
    return this.#evictedEarly;
  }

  /** May `asker` cause a new budget? Charges first, then the relay-wide rate, then a place if `needsPlace`. */
  #admit(asker: Asker, now: number, needsPlace: boolean): AttemptDecision | undefined {
    for (const [key, limit] of [
      [addressKey(asker), this.options.perAddress],
      [connectionKey(asker), this.options.perConnection],
    ] as const) {
      const live = this.#live(key, now);
      if (live.count >= limit) return { granted: false, retryAfterMs: live.firstFullInMs };
    }
    if (!this.#creations.take(now)) return { granted: false, retryAfterMs: this.#creations.waitMs(now) };
    if (needsPlace) this.#makeRoom(now);
    return undefined;
  }

  /** Budgets charged to `key` that are still refilling, and how soon the first is full. */
  #live(key: string, now: number): { count: number; firstFullInMs: number } {
    const budgets = this.#charges.get(key);
    let firstFullInMs = Infinity;
    for (const budget of budgets ?? []) {
      const fullInMs = budget.bucket.fullInMs(now);
      if (fullInMs === 0) this.#release(budget);
      else firstFullInMs = Math.min(firstFullInMs, fullInMs);
    }
    return { count: this.#charges.get(key)?.size ?? 0, firstFullInMs };
  }

  /** Frees a place for a new room: the least recently used budget if it is full, else the one full soonest. */
  #makeRoom(now: number): void {
    if (this.#rooms.size < this.options.maxRooms) return;
    const [oldestRoom, oldest] = this.#rooms.entries().next().value ?? [];
    if (oldestRoom === undefined || oldest === undefined) return;
    if (oldest.bucket.fullInMs(now) === 0) return this.#forget(oldestRoom, oldest);
    // Every budget is still refilling: a scan, at most `newPerSecond` times a second.
    let soonest: [string, RoomBudget, number] = [oldestRoom, oldest, Infinity];
    for (const [room, budget] of this.#rooms) {
      const fullInMs = budget.bucket.fullInMs(now);
      if (fullInMs < soonest[2]) soonest = [room, budget, fullInMs];
    }
    if (soonest[2] > 0) this.#evictedEarly += 1;
    this.#forget(soonest[0], soonest[1]);
  }

  #forgetOld(now: number): void {
    for (const [room, budget] of this.#rooms) {
      if (now - budget.lastUsed < this.options.memoryMs) break; // the rest were used later
      this.#forget(room, budget);
    }
  }

  #forget(room: string, budget: RoomBudget): void {
    this.#rooms.delete(room);
    this.#release(budget);
  }

  #charged(key: string): Set<RoomBudget> {
    let budgets = this.#charges.get(key);
    if (!budgets) this.#charges.set(key, (budgets = new Set()));
    return budgets;
  }

  #release(budget: RoomBudget): void {
    for (const key of budget.chargedTo) {
      const budgets = this.#charges.get(key);
      budgets?.delete(budget);
      if (budgets?.size === 0) this.#charges.delete(key);
    }
    budget.chargedTo = [];
  }
}
