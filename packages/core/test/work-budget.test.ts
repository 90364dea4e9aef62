/**
 * WorkBudget (session/work-budget.ts): a token bucket with an injected clock. It starts full,
 * spends all-or-nothing, refills at its rate up to the burst, and a clock that goes back neither
 * adds nor takes away anything.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { WorkBudget } from '../src/session/work-budget.ts';

describe('WorkBudget', () => {
  it.each([
    ['burst below 1', 0.5, 10],
    ['burst 0', 0, 10],
    ['burst NaN', Number.NaN, 10],
    ['perSecond 0', 10, 0],
    ['perSecond negative', 10, -1],
    ['perSecond NaN', 10, Number.NaN],
  ])('refuses %s with a RangeError', (_label, burst, perSecond) => {
    expect(() => new WorkBudget(burst, perSecond)).toThrow(
      new RangeError('burst must be >= 1 and perSecond > 0'),
    );
  });

  it('accepts the smallest valid settings: a burst of 1, any positive rate', () => {
    const budget = new WorkBudget(1, Number.MIN_VALUE);
    expect(budget.spend(1, 0)).toBe(true);
    expect(budget.spend(1, 0)).toBe(false);
  });

  it('starts full, and spends all or nothing', () => {
    const budget = new WorkBudget(10, 1);
    expect(budget.spend(11, 0)).toBe(false);
    expect(budget.spend(10, 0)).toBe(true);
    expect(budget.spend(1, 0)).toBe(false);
  });

  it('a refused spend takes nothing', () => {
    const budget = new WorkBudget(10, 1);
    expect(budget.spend(4, 0)).toBe(true);
    expect(budget.spend(7, 0)).toBe(false);
    expect(budget.spend(6, 0)).toBe(true);
  });

  it('refills at its rate, up to the burst', () => {
    const budget = new WorkBudget(10, 4);
    expect(budget.spend(10, 1000)).toBe(true);
    expect(budget.spend(3, 1500)).toBe(false); // 2 back after half a second
    expect(budget.spend(2, 1500)).toBe(true);
    expect(budget.spend(11, 100_000)).toBe(false); // never more than the burst
    expect(budget.spend(10, 100_000)).toBe(true);
  });

  it('a clock that goes back adds nothing, and does not make the later refill count twice', () => {
    const budget = new WorkBudget(10, 10);
    expect(budget.spend(10, 1000)).toBe(true);
    expect(budget.spend(1, 0)).toBe(false);
    expect(budget.spend(1, 1000)).toBe(false); // the time from 0 to 1000 was counted already
    expect(budget.spend(1, 1100)).toBe(true);
  });

  it('never gives more than the burst plus what its rate earns over the span of the clock', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 50 }),
        fc.integer({ min: 1, max: 100 }),
        fc.array(
          fc.record({ units: fc.integer({ min: 0, max: 60 }), now: fc.integer({ min: 0, max: 5000 }) }),
          {
            maxLength: 40,
          },
        ),
        (burst, perSecond, spends) => {
          const budget = new WorkBudget(burst, perSecond);
          let spent = 0;
          for (const { units, now } of spends) if (budget.spend(units, now)) spent += units;
          const times = spends.map(({ now }) => now);
          const span = times.length === 0 ? 0 : Math.max(...times) - Math.min(...times);
          expect(spent).toBeLessThanOrEqual(burst + (span * perSecond) / 1000 + 1e-9);
          // And after waiting long enough from the latest time, the whole burst is back.
          const latest = Math.max(0, ...times);
          expect(budget.spend(burst, latest + Math.ceil((1000 * burst) / perSecond))).toBe(true);
        },
      ),
    );
  });
});
