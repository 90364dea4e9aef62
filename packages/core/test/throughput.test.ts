import { describe, expect, it } from 'vitest';
import { THROUGHPUT_WINDOW_MS, Throughput } from '../src/session/throughput.ts';

describe('throughput: speed and time left', () => {
  it('is unknown until half a second of readings, then bytes over time', () => {
    const meter = new Throughput();
    meter.record(0, 0);
    meter.record(400, 4000);
    expect(meter.bytesPerSecond(400)).toBeUndefined();
    expect(meter.secondsLeft(400, 10_000)).toBeUndefined();
    meter.record(1000, 10_000);
    expect(meter.bytesPerSecond(1000)).toBe(10_000);
    expect(meter.secondsLeft(1000, 30_000)).toBe(2);
  });

  it('follows the recent window: an old burst stops counting', () => {
    const meter = new Throughput();
    meter.record(0, 0);
    meter.record(1000, 1_000_000); // fast at first
    for (let t = 2000; t <= 2000 + THROUGHPUT_WINDOW_MS; t += 500) meter.record(t, 1_000_000 + (t - 1000));
    expect(meter.bytesPerSecond(2000 + THROUGHPUT_WINDOW_MS)).toBeCloseTo(1000, 0);
  });

  it('a stall makes the speed fall; a rewind starts again', () => {
    const meter = new Throughput();
    meter.record(0, 0);
    meter.record(1000, 1000);
    expect(meter.bytesPerSecond(2000)).toBe(500);
    meter.record(2500, 10);
    expect(meter.bytesPerSecond(2500)).toBeUndefined();
    expect(meter.secondsLeft(2500, 100)).toBeUndefined();
  });
});

describe('throughput: boundaries', () => {
  it('knows nothing before the first reading', () => {
    const meter = new Throughput();
    expect(meter.bytesPerSecond(1000)).toBeUndefined();
    expect(meter.secondsLeft(1000, 10)).toBeUndefined();
  });

  it('a reading with no new bytes is a stall, not a rewind: the speed falls but stays known', () => {
    const meter = new Throughput();
    meter.record(0, 0);
    meter.record(1000, 1000);
    meter.record(2000, 1000);
    expect(meter.bytesPerSecond(2000)).toBe(500);
  });

  it('exactly half a second of readings is enough', () => {
    const meter = new Throughput();
    meter.record(0, 0);
    meter.record(500, 500);
    expect(meter.bytesPerSecond(500)).toBe(1000);
  });

  it('a reading exactly one window older than the next-to-first is dropped, a younger one kept', () => {
    const kept = new Throughput();
    kept.record(0, 0);
    kept.record(1000, 1000);
    kept.record(2000, 4000);
    expect(kept.bytesPerSecond(2000)).toBe(2000); // from the reading at 0
    const dropped = new Throughput();
    dropped.record(0, 0);
    dropped.record(1000, 1000);
    dropped.record(1000 + THROUGHPUT_WINDOW_MS, 7000);
    expect(dropped.bytesPerSecond(1000 + THROUGHPUT_WINDOW_MS)).toBe(2000); // from the reading at 1000
  });
});
