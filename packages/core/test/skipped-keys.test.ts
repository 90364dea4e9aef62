/**
 * The store of skipped message keys (session/skipped-keys.ts): taking a key once, the bounds per
 * chain and in total (the oldest go first: earlier storage, then the lower message number), the
 * time limit, and that every key leaving the store other than by `takeSkipped` is wiped.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  dropChain,
  expireSkipped,
  storeSkipped,
  takeSkipped,
  wipeSkipped,
  type SkippedBounds,
  type SkippedKeys,
} from '../src/session/skipped-keys.ts';

const LOOSE: SkippedBounds = { perChain: 100, total: 1000, ttlMs: 60_000 };

/** A recognisable non-zero key: every byte is `fill`. */
const key = (fill: number): Uint8Array => new Uint8Array(32).fill(fill);
const isWiped = (bytes: Uint8Array): boolean => bytes.every((byte) => byte === 0);
const keysOf = (...ns: number[]) => ns.map((n) => ({ n, key: key(n + 1) }));

/** The store as [chain, n, storedAt] rows, in its own iteration order. */
function rows(store: SkippedKeys): [string, number, number][] {
  return [...store].flatMap(([chain, keys]) =>
    [...keys].map(([n, entry]): [string, number, number] => [chain, n, entry.storedAt]),
  );
}

describe('takeSkipped', () => {
  it('gives a stored key once, and removes a chain left empty', () => {
    const store: SkippedKeys = new Map();
    const stored = keysOf(1, 2);
    storeSkipped(store, 'a', stored, 0, LOOSE);
    expect(takeSkipped(store, 'a', 1)).toBe(stored[0]?.key);
    expect(takeSkipped(store, 'a', 1)).toBeUndefined();
    expect(rows(store)).toEqual([['a', 2, 0]]);
    expect(takeSkipped(store, 'a', 2)).toBe(stored[1]?.key);
    expect(store.size).toBe(0);
    expect(stored.every(({ key }) => !isWiped(key))).toBe(true); // taken, not wiped: the caller uses it
  });

  it('gives nothing for an unknown chain or number, and changes nothing', () => {
    const store: SkippedKeys = new Map();
    storeSkipped(store, 'a', keysOf(1), 0, LOOSE);
    expect(takeSkipped(store, 'b', 1)).toBeUndefined();
    expect(takeSkipped(store, 'a', 2)).toBeUndefined();
    expect(rows(store)).toEqual([['a', 1, 0]]);
  });
});

describe('storeSkipped', () => {
  it('stores nothing, not even an empty chain, when given no keys', () => {
    const store: SkippedKeys = new Map();
    storeSkipped(store, 'a', [], 0, LOOSE);
    expect(store.size).toBe(0);
  });

  it('wipes the key it replaces when a number is stored again', () => {
    const store: SkippedKeys = new Map();
    const first = key(7);
    storeSkipped(store, 'a', [{ n: 1, key: first }], 0, LOOSE);
    storeSkipped(store, 'a', [{ n: 1, key: key(8) }], 5, LOOSE);
    expect(isWiped(first)).toBe(true);
    expect(rows(store)).toEqual([['a', 1, 5]]);
    expect(takeSkipped(store, 'a', 1)).toEqual(key(8));
  });

  it('keeps at most perChain keys of a chain: the oldest go first, and are wiped', () => {
    const store: SkippedKeys = new Map();
    const bounds = { ...LOOSE, perChain: 2 };
    const early = keysOf(1, 2);
    storeSkipped(store, 'a', early, 0, bounds);
    storeSkipped(store, 'a', keysOf(3), 1, bounds);
    expect(rows(store)).toEqual([
      ['a', 2, 0],
      ['a', 3, 1],
    ]);
    expect(isWiped(early[0]!.key)).toBe(true);
    expect(isWiped(early[1]!.key)).toBe(false);
  });

  it('a key stored again counts from its new time, not from when its number was first stored', () => {
    const store: SkippedKeys = new Map();
    const bounds = { ...LOOSE, perChain: 2 };
    storeSkipped(store, 'a', keysOf(1, 2), 0, bounds);
    storeSkipped(store, 'a', keysOf(1), 10, bounds); // first in the map's order, but now the newest
    storeSkipped(store, 'a', keysOf(3), 20, bounds);
    expect(rows(store).map(([, n]) => n)).toEqual([1, 3]);
  });

  it('evicts on ties of time the lower message number first, whatever order they came in', () => {
    const store: SkippedKeys = new Map();
    storeSkipped(store, 'a', keysOf(3, 1, 2, 4), 0, { ...LOOSE, perChain: 2 });
    expect(rows(store).map(([, n]) => n)).toEqual([3, 4]);
  });

  it('keeps every key while a chain is within perChain (exactly at the bound too)', () => {
    const store: SkippedKeys = new Map();
    const stored = keysOf(1, 2, 3);
    storeSkipped(store, 'a', stored, 0, { ...LOOSE, perChain: 3 });
    expect(rows(store).map(([, n]) => n)).toEqual([1, 2, 3]);
    expect(stored.some(({ key }) => isWiped(key))).toBe(false);
  });

  it('keeps at most total keys across chains: the oldest go first, lower numbers first on ties', () => {
    const store: SkippedKeys = new Map();
    const bounds = { ...LOOSE, total: 3 };
    storeSkipped(store, 'a', keysOf(5, 6), 10, bounds);
    const older = keysOf(8, 2);
    storeSkipped(store, 'b', older, 0, bounds); // the clock went back: b's keys are the oldest
    expect(rows(store)).toEqual([
      ['a', 5, 10],
      ['a', 6, 10],
      ['b', 8, 0],
    ]);
    expect(isWiped(older[1]!.key)).toBe(true);
    storeSkipped(store, 'c', keysOf(1), 10, bounds);
    storeSkipped(store, 'd', keysOf(7), 20, bounds);
    // b:8 (time 0) went, then of a:5, a:6, c:1 (time 10) the lowest number, c:1.
    expect(rows(store)).toEqual([
      ['a', 5, 10],
      ['a', 6, 10],
      ['d', 7, 20],
    ]);
  });

  it('on a full tie (same time, same number) evicts the chain stored first', () => {
    const store: SkippedKeys = new Map();
    const bounds = { ...LOOSE, total: 1 };
    const first = keysOf(1);
    storeSkipped(store, 'a', first, 0, LOOSE);
    storeSkipped(store, 'b', keysOf(1), 0, bounds);
    expect(rows(store)).toEqual([['b', 1, 0]]);
    expect(isWiped(first[0]!.key)).toBe(true);
  });

  // A model of the bounds, checked against the store on random sequences of stores, takes and
  // expiries (clock going back included). Chains use disjoint message numbers, so that the order
  // of eviction is fixed by (time, number) alone.
  it('matches a model of the bounds, and wipes exactly the keys it lets go', () => {
    const chains = ['a', 'b', 'c'];
    const op = fc.oneof(
      fc.record({
        type: fc.constant('store' as const),
        chain: fc.integer({ min: 0, max: 2 }),
        ns: fc.array(fc.integer({ min: 0, max: 9 }), { maxLength: 6 }),
        now: fc.integer({ min: 0, max: 50 }),
      }),
      fc.record({
        type: fc.constant('take' as const),
        chain: fc.integer({ min: 0, max: 2 }),
        n: fc.integer({ min: 0, max: 9 }),
      }),
      fc.record({ type: fc.constant('expire' as const), now: fc.integer({ min: 0, max: 80 }) }),
    );
    fc.assert(
      fc.property(
        fc.array(op, { maxLength: 30 }),
        fc.integer({ min: 1, max: 5 }),
        fc.integer({ min: 1, max: 8 }),
        (ops, perChain, total) => {
          const bounds = { perChain, total, ttlMs: 30 };
          const store: SkippedKeys = new Map();
          type Row = { chain: string; n: number; storedAt: number; key: Uint8Array };
          let model: Row[] = [];
          const oldestFirst = (x: Row, y: Row) => x.storedAt - y.storedAt || x.n - y.n;
          const gone: Uint8Array[] = [];
          const taken: Uint8Array[] = [];
          let fill = 1;
          for (const step of ops) {
            if (step.type === 'store') {
              const chain = chains[step.chain]!;
              const keys = step.ns.map((n) => ({ n: step.chain * 100 + n, key: key(fill++ % 255 || 1) }));
              storeSkipped(store, chain, keys, step.now, bounds);
              for (const { n, key } of keys) {
                const replaced = model.find((row) => row.chain === chain && row.n === n);
                if (replaced) gone.push(replaced.key);
                model = model.filter((row) => row !== replaced);
                model.push({ chain, n, storedAt: step.now, key });
              }
              const own = model.filter((row) => row.chain === chain).sort(oldestFirst);
              const overChain = own.slice(0, Math.max(0, own.length - perChain));
              const rest = model.filter((row) => !overChain.includes(row)).sort(oldestFirst);
              const overTotal = rest.slice(0, Math.max(0, rest.length - total));
              for (const row of [...overChain, ...overTotal]) gone.push(row.key);
              model = rest.slice(overTotal.length);
            } else if (step.type === 'take') {
              const chain = chains[step.chain]!;
              const n = step.chain * 100 + step.n;
              const row = model.find((r) => r.chain === chain && r.n === n);
              expect(takeSkipped(store, chain, n)).toBe(row?.key);
              if (row) taken.push(row.key);
              model = model.filter((r) => r !== row);
            } else {
              expireSkipped(store, step.now, bounds.ttlMs);
              for (const row of model.filter((r) => step.now - r.storedAt >= bounds.ttlMs))
                gone.push(row.key);
              model = model.filter((r) => step.now - r.storedAt < bounds.ttlMs);
            }
            const sorted = (list: [string, number, number][]) => list.map((r) => r.join()).sort();
            expect(sorted(rows(store))).toEqual(sorted(model.map((r) => [r.chain, r.n, r.storedAt])));
            expect([...store.values()].every((keys) => keys.size > 0)).toBe(true);
            expect(model.every((row) => store.get(row.chain)?.get(row.n)?.key === row.key)).toBe(true);
          }
          expect(model.some((row) => isWiped(row.key))).toBe(false);
          expect(taken.some(isWiped)).toBe(false);
          expect(gone.every(isWiped)).toBe(true);
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('expireSkipped', () => {
  it('erases (and wipes) keys stored ttlMs or more ago, and chains left empty', () => {
    const store: SkippedKeys = new Map();
    const old = keysOf(1);
    const young = keysOf(2);
    storeSkipped(store, 'a', old, 0, LOOSE);
    storeSkipped(store, 'b', young, 1, LOOSE);
    expireSkipped(store, LOOSE.ttlMs - 1, LOOSE.ttlMs);
    expect(rows(store)).toEqual([
      ['a', 1, 0],
      ['b', 2, 1],
    ]);
    expireSkipped(store, LOOSE.ttlMs, LOOSE.ttlMs);
    expect(rows(store)).toEqual([['b', 2, 1]]);
    expect([...store.keys()]).toEqual(['b']);
    expect(isWiped(old[0]!.key)).toBe(true);
    expect(isWiped(young[0]!.key)).toBe(false);
  });
});

describe('dropChain and wipeSkipped', () => {
  it('dropChain erases and wipes one chain, and leaves the others', () => {
    const store: SkippedKeys = new Map();
    const dropped = keysOf(1, 2);
    const kept = keysOf(3);
    storeSkipped(store, 'a', dropped, 0, LOOSE);
    storeSkipped(store, 'b', kept, 0, LOOSE);
    dropChain(store, 'a');
    dropChain(store, 'unknown');
    expect([...store.keys()]).toEqual(['b']);
    expect(dropped.every(({ key }) => isWiped(key))).toBe(true);
    expect(isWiped(kept[0]!.key)).toBe(false);
  });

  it('wipeSkipped erases and wipes everything', () => {
    const store: SkippedKeys = new Map();
    const all = [...keysOf(1, 2), ...keysOf(3)];
    storeSkipped(store, 'a', all.slice(0, 2), 0, LOOSE);
    storeSkipped(store, 'b', all.slice(2), 0, LOOSE);
    wipeSkipped(store);
    expect(store.size).toBe(0);
    expect(all.every(({ key }) => isWiped(key))).toBe(true);
  });
});
