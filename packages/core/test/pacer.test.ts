import { describe, expect, it } from 'vitest';
import { Pacer } from '../src/session/pacer.ts';

/** Frames that can wait, sent as soon as allowed between `from` and `to` (ms); their times. */
function drain(pacer: Pacer, from: number, to: number): number[] {
  const sent: number[] = [];
  for (let now = from; now <= to; now++) {
    while (pacer.waitMs(now) === 0) {
      pacer.charge(now);
      sent.push(now);
    }
  }
  return sent;
}

describe('Pacer: a share of the relay bucket', () => {
  it('allows half the burst at once, then 80 % of the rate', () => {
    const pacer = new Pacer({ burst: 100, perSecond: 50 }, 0);
    const sent = drain(pacer, 0, 10_000);
    expect(sent.filter((t) => t === 0)).toHaveLength(50);
    expect(sent).toHaveLength(50 + 400); // 40 a second for 10 s
    expect(pacer.waitMs(10_000)).toBe(25);
  });

  it('a new connection starts full again', () => {
    const pacer = new Pacer({ burst: 10, perSecond: 5 }, 0);
    drain(pacer, 0, 0);
    expect(pacer.waitMs(0)).toBeGreaterThan(0);
    pacer.reset({ burst: 10, perSecond: 5 }, 1);
    expect(drain(pacer, 1, 1)).toHaveLength(5);
  });

  it('frames that cannot wait may put it in debt, which later frames wait out', () => {
    const pacer = new Pacer({ burst: 10, perSecond: 5 }, 0);
    for (let i = 0; i < 8; i++) pacer.charge(0);
    expect(pacer.waitMs(0)).toBe(1_000); // 5 - 8 = -3 tokens: 4 to earn at 4 a second
  });

  it('a rate learned mid-connection keeps counting what was sent', () => {
    const pacer = new Pacer({ burst: 100, perSecond: 50 }, 0);
    for (let i = 0; i < 45; i++) pacer.charge(0);
    pacer.learn({ burst: 20, perSecond: 50 }, 0); // 10 allowed, 45 of 50 used: none left
    expect(pacer.waitMs(0)).toBeGreaterThan(0);
    pacer.learn({ burst: 100_000, perSecond: 100_000 }, 0);
    expect(pacer.waitMs(0)).toBe(0);
  });

  it('after rate-limited nothing that can wait goes for the given time', () => {
    const pacer = new Pacer({ burst: 100, perSecond: 50 }, 0);
    pacer.pause(1_500, 100);
    expect(pacer.waitMs(100)).toBe(1_500);
    expect(pacer.waitMs(1_599)).toBe(1);
    expect(pacer.waitMs(1_600)).toBe(0);
  });

  it('debt is capped at one bucket: a storm of urgent frames costs at most one bucket of waiting', () => {
    const pacer = new Pacer({ burst: 10, perSecond: 5 }, 0);
    for (let i = 0; i < 100; i++) pacer.charge(0);
    expect(pacer.waitMs(0)).toBe(1_500); // -5 tokens: 6 to earn at 4 a second
  });

  it('a relay with a burst of 1 still lets one frame through at a time', () => {
    const pacer = new Pacer({ burst: 1, perSecond: 5 }, 0);
    expect(drain(pacer, 0, 0)).toHaveLength(1);
    expect(pacer.waitMs(0)).toBe(250);
  });

  it('a clock that steps back earns nothing, and loses nothing already earned', () => {
    const pacer = new Pacer({ burst: 10, perSecond: 1_250 }, 1_000); // 5 at once, then 1 a ms
    expect(drain(pacer, 1_000, 1_000)).toHaveLength(5);
    expect(pacer.waitMs(500)).toBe(1); // no tokens for going back, and no debt either
    expect(pacer.waitMs(1_000)).toBe(1); // nor for coming forward again to where it was
    expect(pacer.waitMs(1_001)).toBe(0);
  });

  it('a shorter pause does not cut a longer one short, and a pause empties the bucket', () => {
    const pacer = new Pacer({ burst: 100, perSecond: 50 }, 0);
    pacer.pause(2_000, 0);
    pacer.pause(500, 0);
    expect(pacer.waitMs(1_000)).toBe(1_000);
    expect(pacer.waitMs(2_000)).toBe(0);
    const sent = drain(pacer, 2_000, 2_000);
    expect(sent.length).toBe(50); // refilled while paused: 2 s at 40 a second, capped at 50
    const fresh = new Pacer({ burst: 100, perSecond: 50 }, 0);
    fresh.pause(0, 0);
    expect(fresh.waitMs(0)).toBe(25); // nothing left in the bucket
  });
});
