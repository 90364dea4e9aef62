import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { HandshakeBudget, type Asker } from '../src/handshake-budget.ts';
import { DEFAULT_LIMITS } from '../src/limits.ts';

const MINUTE = 60_000;
const unlimited = { perAddress: 1_000, perConnection: 1_000, newPerSecond: 1_000 };
const small = { burst: 2, refillMs: 1000, memoryMs: 10_000, maxRooms: 3, ...unlimited };
const me: Asker = { address: '192.0.2.1', connection: 'n/1' };
const asker = (address: string, connection = `${address}/1`): Asker => ({ address, connection });

describe('HandshakeBudget (injected clock)', () => {
  it('by default grants 5 attempts at once, then one a minute', () => {
    const budget = new HandshakeBudget({
      burst: DEFAULT_LIMITS.handshakeBurst,
      refillMs: DEFAULT_LIMITS.handshakeRefillMs,
      memoryMs: DEFAULT_LIMITS.handshakeMemoryMs,
      maxRooms: DEFAULT_LIMITS.handshakeBudgetRooms,
      perAddress: DEFAULT_LIMITS.handshakeBudgetsPerIp,
      perConnection: DEFAULT_LIMITS.handshakeBudgetsPerConnection,
      newPerSecond: DEFAULT_LIMITS.handshakeNewRoomsPerSecond,
    });
    for (const attempt of [1, 2, 3, 4, 5])
      expect(budget.take('room', me, 0)).toEqual({ granted: true, attempt });
    expect(budget.take('room', me, 0)).toEqual({ granted: false, retryAfterMs: MINUTE });
    expect(budget.take('room', me, MINUTE - 1)).toEqual({ granted: false, retryAfterMs: 1 });
    expect(budget.take('room', me, MINUTE)).toEqual({ granted: true, attempt: 6 });
    expect(budget.take('room', me, MINUTE)).toMatchObject({ granted: false });
  });

  it('keeps a separate budget and attempt count per room', () => {
    const budget = new HandshakeBudget(small);
    budget.take('r', me, 0);
    budget.take('r', me, 0);
    expect(budget.take('r', me, 0)).toEqual({ granted: false, retryAfterMs: 1000 });
    expect(budget.take('other', me, 0)).toEqual({ granted: true, attempt: 1 });
    expect(budget.take('r', me, 1000)).toEqual({ granted: true, attempt: 3 });
  });

  it('remembers a spent budget until memoryMs after its last use, then forgets it', () => {
    const budget = new HandshakeBudget({ ...small, refillMs: 100_000 });
    budget.take('r', me, 0);
    budget.take('r', me, 0);
    expect(budget.take('r', me, 9_999)).toMatchObject({ granted: false }); // a refusal is a use too
    expect(budget.take('r', me, 19_998)).toMatchObject({ granted: false });
    expect(budget.take('r', me, 29_998)).toEqual({ granted: true, attempt: 1 }); // forgotten: a fresh budget
  });

  it('stays bounded by pushing out the least recently used budget once it has refilled', () => {
    const budget = new HandshakeBudget(small);
    budget.take('a', me, 0);
    budget.take('b', me, 0);
    budget.take('c', me, 0);
    expect(budget.size).toBe(3);
    expect(budget.take('d', me, 1000)).toEqual({ granted: true, attempt: 1 }); // 'a' had refilled
    expect(budget.size).toBe(3);
    expect(budget.take('b', me, 1000)).toEqual({ granted: true, attempt: 2 }); // 'b' was kept
    expect(budget.take('a', me, 1000)).toMatchObject({ granted: true, attempt: 1 }); // 'a' was forgotten
    expect(budget.evictedEarly).toBe(0);
  });
});

describe('HandshakeBudget: nobody can fill the table for everyone (issue 10)', () => {
  it('charges a new budget to the address that caused it: past perAddress refilling ones, that address waits', () => {
    const budget = new HandshakeBudget({ ...small, maxRooms: 100, perAddress: 2 });
    const attacker = asker('198.51.100.7');
    for (const [room, connection] of [
      ['a', 'n/1'],
      ['b', 'n/2'],
    ] as const) {
      budget.take(room, { ...attacker, connection }, 0);
      budget.take(room, { ...attacker, connection }, 0); // drained: full again in 2 s
    }
    // A third room from the same address, even on a new connection: wait until 'a' has refilled.
    expect(budget.take('c', { ...attacker, connection: 'n/3' }, 500)).toEqual({
      granted: false,
      retryAfterMs: 1500,
    });
    // Another address is not affected, and the attacker may still use the rooms it has.
    expect(budget.take('fresh', asker('203.0.113.9'), 500)).toEqual({ granted: true, attempt: 1 });
    expect(budget.take('a', attacker, 1000)).toEqual({ granted: true, attempt: 3 });
    // Once one of its budgets has refilled, the charge is over and it may cause another.
    expect(budget.take('c', attacker, 2000)).toEqual({ granted: true, attempt: 1 });
  });

  it('charges draining a refilled budget again as a new one: an address cannot keep more than perAddress refilling', () => {
    const budget = new HandshakeBudget({ ...small, maxRooms: 100, perAddress: 1 });
    const attacker = asker('198.51.100.7');
    budget.take('a', attacker, 0);
    budget.take('a', attacker, 0);
    budget.take('a', attacker, 2000); // 'a' had refilled: this is charged again
    expect(budget.take('b', attacker, 2000)).toEqual({ granted: false, retryAfterMs: 1000 });
    // Someone else draining the refilled room is charged instead.
    budget.take('a', attacker, 3000);
    budget.take('a', asker('203.0.113.9'), 5000);
    expect(budget.take('b', attacker, 5000)).toMatchObject({ granted: true });
  });

  it('charges a new budget to the connection that caused it as well', () => {
    const budget = new HandshakeBudget({ ...small, maxRooms: 100, perConnection: 1 });
    budget.take('a', me, 0);
    expect(budget.take('b', me, 0)).toEqual({ granted: false, retryAfterMs: 1000 });
    expect(budget.take('b', { ...me, connection: 'n/2' }, 0)).toEqual({ granted: true, attempt: 1 });
  });

  it('creates at most newPerSecond budgets a second, relay-wide', () => {
    const budget = new HandshakeBudget({ ...small, maxRooms: 100, newPerSecond: 4 });
    for (const room of ['a', 'b', 'c', 'd'])
      expect(budget.take(room, asker(room), 0)).toMatchObject({ granted: true });
    expect(budget.take('e', asker('e'), 0)).toEqual({ granted: false, retryAfterMs: 250 });
    expect(budget.take('a', asker('a'), 0)).toMatchObject({ granted: true }); // an existing room is no new budget
    expect(budget.take('e', asker('e'), 250)).toMatchObject({ granted: true });
  });

  it('when the table is full of refilling budgets, a fresh room still gets one: the budget full soonest goes', () => {
    const budget = new HandshakeBudget({ ...small, refillMs: 10_000, memoryMs: 1_000_000 });
    budget.take('a', asker('1'), 0); // full again at 10 s
    budget.take('b', asker('2'), 0);
    budget.take('b', asker('2'), 0); // full again at 20 s
    budget.take('c', asker('3'), 0);
    budget.take('c', asker('3'), 0); // full again at 20 s
    budget.take('b', asker('2'), 1); // 'b' is now the most recently used; 'a' the least
    expect(budget.take('fresh', asker('4'), 2)).toEqual({ granted: true, attempt: 1 });
    expect(budget.evictedEarly).toBe(1);
    expect(budget.take('c', asker('3'), 3)).toMatchObject({ granted: false }); // still spent: kept
    expect(budget.take('a', asker('1'), 3)).toMatchObject({ granted: true, attempt: 1 }); // 'a' went
  });

  it('never forgets a refilling budget while the table has room: no room ever gets more than its budget (property)', () => {
    const burst = 3;
    const refillMs = 1_000;
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            room: fc.constantFrom(...Array.from({ length: 12 }, (_, i) => `r${i}`)),
            address: fc.constantFrom('x', 'y', 'z'),
            connection: fc.constantFrom('1', '2'),
            dt: fc.nat(400),
          }),
          { maxLength: 200 },
        ),
        (steps) => {
          const budget = new HandshakeBudget({
            burst,
            refillMs,
            memoryMs: 1_000_000,
            maxRooms: 6, // what the per-client limits allow to be refilling at once: 3 addresses × 2
            perAddress: 2,
            perConnection: 1,
            newPerSecond: 2,
          });
          const first = new Map<string, number>();
          const grants = new Map<string, number>();
          let now = 0;
          for (const step of steps) {
            now += step.dt;
            const decision = budget.take(
              step.room,
              { address: step.address, connection: step.connection },
              now,
            );
            if (!decision.granted) continue;
            if (!first.has(step.room)) first.set(step.room, now);
            grants.set(step.room, (grants.get(step.room) ?? 0) + 1);
            expect(grants.get(step.room)).toBeLessThanOrEqual(
              burst + (now - first.get(step.room)!) / refillMs,
            );
          }
          expect(budget.size).toBeLessThanOrEqual(6);
          expect(budget.evictedEarly).toBe(0);
        },
      ),
      { numRuns: 300 },
    );
  });
});
