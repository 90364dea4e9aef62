import { describe, expect, it } from 'vitest';
import { TokenBucket } from '../src/token-bucket.ts';

describe('TokenBucket (injected clock)', () => {
  it('gives its capacity at once, then one token per refill period', () => {
    const bucket = new TokenBucket(3, 100, 0);
    expect([bucket.take(0), bucket.take(0), bucket.take(0), bucket.take(0)]).toEqual([
      true,
      true,
      true,
      false,
    ]);
    expect(bucket.waitMs(0)).toBe(100);
    expect(bucket.take(99)).toBe(false);
    expect(bucket.take(100)).toBe(true);
  });

  it('says how long until it is full again', () => {
    const bucket = new TokenBucket(3, 100, 0);
    expect(bucket.fullInMs(0)).toBe(0);
    bucket.take(0);
    bucket.take(0);
    expect(bucket.fullInMs(0)).toBe(200);
    expect(bucket.fullInMs(150)).toBe(50);
    expect(bucket.fullInMs(10_000)).toBe(0);
  });

  it('never holds more than its capacity', () => {
    const bucket = new TokenBucket(2, 10, 0);
    expect([1, 2, 3].map(() => bucket.take(1_000_000))).toEqual([true, true, false]);
  });

  it('a clock going backwards adds nothing, and the time is not counted twice', () => {
    const bucket = new TokenBucket(2, 10, 1000);
    bucket.take(1000);
    bucket.take(1000);
    expect(bucket.take(500)).toBe(false);
    expect(bucket.take(1005)).toBe(false); // only 5 ms since 1000, not 505
    expect(bucket.take(1010)).toBe(true);
  });

  it('refuses a capacity below one or a refill period that is not positive', () => {
    expect(() => new TokenBucket(0, 10, 0)).toThrow(RangeError);
    expect(() => new TokenBucket(1, 0, 0)).toThrow(RangeError);
  });

  it('charge takes what a frame cost, going into debt, and says how long until the debt is paid', () => {
    const bucket = new TokenBucket(100, 10, 0); // 100 bytes at once, then 100 a second
    expect(bucket.charge(0, 60)).toBe(0);
    expect(bucket.charge(0, 60)).toBe(200); // 20 in debt: 20 × 10 ms
    expect(bucket.charge(100, 0)).toBe(100);
    expect(bucket.charge(200, 0)).toBe(0);
    expect(bucket.take(200)).toBe(false); // paid, but nothing left over
    expect(bucket.take(210)).toBe(true);
  });
});
