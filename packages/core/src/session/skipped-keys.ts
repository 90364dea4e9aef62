/**
 * Message keys of frames the Double Ratchet stepped over (lost, or still on their way), kept so
 * that a late frame can still be opened once. Stored keys are a risk (Double Ratchet rev. 1, §6.4):
 * a thief who takes the tab later reads the messages they open, and a sender could make the
 * receiver store many. So the store is bounded three ways: per chain, in total (the oldest go
 * first), and in time (each key is erased `ttlMs` after it was stored). Plain data, so that a
 * ratchet's whole state can be copied; time is passed in.
 */
import { wipe } from '../bytes.ts';

export interface SkippedKey {
  readonly key: Uint8Array;
  readonly storedAt: number;
}

/** Keys by chain (the hex of the sender's ratchet public key), then by message number. */
export type SkippedKeys = Map<string, Map<number, SkippedKey>>;

export interface SkippedBounds {
  perChain: number;
  total: number;
  ttlMs: number;
}

/** Removes and returns the key of message `n` in `chain`, if it is stored. */
export function takeSkipped(store: SkippedKeys, chain: string, n: number): Uint8Array | undefined {
  const keys = store.get(chain);
  if (keys === undefined) return undefined;
  const entry = keys.get(n);
  if (entry === undefined) return undefined;
  keys.delete(n);
  if (keys.size === 0) store.delete(chain);
  return entry.key;
}

/** Stores keys of `chain` at `now`, then evicts (and wipes) the oldest beyond the bounds. */
export function storeSkipped(
  store: SkippedKeys,
  chain: string,
  keys: readonly { n: number; key: Uint8Array }[],
  now: number,
  bounds: SkippedBounds,
): void {
  if (keys.length === 0) return;
  const chainKeys = store.get(chain) ?? new Map<number, SkippedKey>();
  store.set(chain, chainKeys);
  for (const { n, key } of keys) {
    const replaced = chainKeys.get(n);
    if (replaced) wipe(replaced.key);
    chainKeys.set(n, { key, storedAt: now });
  }
  evictOldest(chainKeys, chainKeys.size - bounds.perChain);
  let total = 0;
  for (const entries of store.values()) total += entries.size;
  while (total > bounds.total) {
    const oldest = oldestEntry(store);
    // Stryker disable next-line ConditionalExpression: equivalent: total counts the stored keys, so while it is above the bound (≥ 0) there is an oldest one
    if (oldest === undefined) break;
    takeAndWipe(store, oldest.chain, oldest.n);
    total -= 1;
  }
}

/** Erases every key stored `ttlMs` or more before `now`. */
export function expireSkipped(store: SkippedKeys, now: number, ttlMs: number): void {
  for (const [chain, keys] of [...store]) {
    for (const [n, entry] of [...keys]) {
      if (now - entry.storedAt >= ttlMs) takeAndWipe(store, chain, n);
    }
  }
}

/** Erases every key of one chain. */
export function dropChain(store: SkippedKeys, chain: string): void {
  for (const entry of store.get(chain)?.values() ?? []) wipe(entry.key);
  store.delete(chain);
}

export function wipeSkipped(store: SkippedKeys): void {
  for (const chain of [...store.keys()]) dropChain(store, chain);
}

function takeAndWipe(store: SkippedKeys, chain: string, n: number): void {
  const key = takeSkipped(store, chain, n);
  // Stryker disable next-line ConditionalExpression: equivalent: only called for keys that are stored
  if (key) wipe(key);
}

/** Oldest first: earlier storage, then the lower message number (stored in one go). */
function evictOldest(keys: Map<number, SkippedKey>, count: number): void {
  if (count < 1) return; // `< 1` rather than `<= 0`: the same for counts, with no equivalent mutant
  const ordered = [...keys].sort(([n1, a], [n2, b]) => a.storedAt - b.storedAt || n1 - n2);
  for (const [n, entry] of ordered.slice(0, count)) {
    wipe(entry.key);
    keys.delete(n);
  }
}

function oldestEntry(store: SkippedKeys): { chain: string; n: number } | undefined {
  let oldest: { chain: string; n: number; storedAt: number } | undefined;
  for (const [chain, keys] of store) {
    for (const [n, entry] of keys) {
      if (
        oldest === undefined ||
        entry.storedAt < oldest.storedAt ||
        (entry.storedAt === oldest.storedAt && n < oldest.n)
      )
        oldest = { chain, n, storedAt: entry.storedAt };
    }
  }
  return oldest;
}
