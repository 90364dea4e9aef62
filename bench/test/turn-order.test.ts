import { describe, expect, it } from 'vitest';
import { turnOrder } from '../turn-order.ts';

/** The ordered pairs (a relay, the relay after it) of the cycle, the last followed by the first. */
function successions(order: number[]): string[] {
  return order.map((relay, i) => `${relay}->${order[(i + 1) % order.length]}`);
}

describe('turnOrder', () => {
  it('gives one relay every turn', () => {
    expect(turnOrder(1)).toEqual([0]);
  });

  it('alternates two relays', () => {
    expect(turnOrder(2)).toEqual([0, 1]);
  });

  it.each([3, 4, 5, 6])('with %i relays, has each follow each other exactly once per cycle', (n) => {
    const order = turnOrder(n);
    const pairs = successions(order);
    const expected = Array.from({ length: n }, (_, a) =>
      Array.from({ length: n }, (_, b) => b)
        .filter((b) => b !== a)
        .map((b) => `${a}->${b}`),
    ).flat();
    expect([...pairs].sort()).toEqual(expected.sort());
    for (let relay = 0; relay < n; relay++) expect(order.filter((r) => r === relay)).toHaveLength(n - 1);
  });
});
