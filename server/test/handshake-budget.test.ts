import { describe, expect, it } from 'vitest';
import { HandshakeBudget } from '../src/handshake-budget.ts';
import { DEFAULT_LIMITS } from '../src/limits.ts';

const MINUTE = 60_000;
const small = { burst: 2, refillMs: 1000, memoryMs: 10_000, maxRooms: 3 };

describe('HandshakeBudget (injected clock)', () => {
  it('by default grants 5 attempts at once, then one a minute', () => {
    const budget = new HandshakeBudget({
      burst: DEFAULT_LIMITS.handshakeBurst,
      refillMs: DEFAULT_LIMITS.handshakeRefillMs,
      memoryMs: DEFAULT_LIMITS.handshakeMemoryMs,
      maxRooms: DEFAULT_LIMITS.handshakeBudgetRooms,
    });
    for (const attempt of [1, 2, 3, 4, 5]) expect(budget.take('room', 0)).toEqual({ granted: true, attempt });
    expect(budget.take('room', 0)).toEqual({ granted: false, retryAfterMs: MINUTE });
    expect(budget.take('room', MINUTE - 1)).toEqual({ granted: false, retryAfterMs: 1 });
    expect(budget.take('room', MINUTE)).toEqual({ granted: true, attempt: 6 });
    expect(budget.take('room', MINUTE)).toMatchObject({ granted: false });
  });

  it('keeps a separate budget and attempt count per room', () => {
    const budget = new HandshakeBudget(small);
    budget.take('r', 0);
    budget.take('r', 0);
    expect(budget.take('r', 0)).toEqual({ granted: false, retryAfterMs: 1000 });
    expect(budget.take('other', 0)).toEqual({ granted: true, attempt: 1 });
    expect(budget.take('r', 1000)).toEqual({ granted: true, attempt: 3 });
  });

  it('remembers a spent budget until memoryMs after its last use, then forgets it', () => {
    const budget = new HandshakeBudget({ ...small, refillMs: 100_000 });
    budget.take('r', 0);
    budget.take('r', 0);
    expect(budget.take('r', 9_999)).toMatchObject({ granted: false }); // a refusal is a use too
    expect(budget.take('r', 19_998)).toMatchObject({ granted: false });
    expect(budget.take('r', 29_998)).toEqual({ granted: true, attempt: 1 }); // forgotten: a fresh budget
  });

  it('stays bounded by pushing out the least recently used budget once it has refilled', () => {
    const budget = new HandshakeBudget(small);
    budget.take('a', 0);
    budget.take('b', 0);
    budget.take('c', 0);
    expect(budget.size).toBe(3);
    expect(budget.take('d', 1000)).toEqual({ granted: true, attempt: 1 }); // 'a' had refilled
    expect(budget.size).toBe(3);
    expect(budget.take('b', 1000)).toEqual({ granted: true, attempt: 2 }); // 'b' was kept
    expect(budget.take('a', 1000)).toMatchObject({ granted: true, attempt: 1 }); // 'a' was forgotten
  });

  it('never pushes out a budget that is still refilling: a new room waits instead', () => {
    const budget = new HandshakeBudget(small);
    for (const room of ['a', 'b', 'c']) {
      budget.take(room, 0);
      budget.take(room, 0);
    }
    // 'a' is spent; forgetting it would hand its room 2 fresh attempts.
    expect(budget.take('d', 500)).toEqual({ granted: false, retryAfterMs: 1500 });
    expect(budget.take('a', 500)).toEqual({ granted: false, retryAfterMs: 500 });
    expect(budget.size).toBe(3);
  });
});
