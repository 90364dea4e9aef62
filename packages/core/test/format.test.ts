import { describe, expect, it } from 'vitest';
import { formatBytes, formatDuration } from '../src/format.ts';

describe('sizes and durations for people', () => {
  it.each([
    [0, '0 B'],
    [1023, '1023 B'],
    [1536, '1.50 KiB'],
    [20 * 1024 ** 2, '20.0 MiB'],
    [2 * 1024 ** 3, '2.00 GiB'],
  ])('%i bytes is %s', (bytes, text) => expect(formatBytes(bytes)).toBe(text));

  it.each([
    [0.2, '1 s'],
    [59, '59 s'],
    [125, '2 min 5 s'],
    [3780, '1 h 3 min'],
  ])('%f seconds is %s', (seconds, text) => expect(formatDuration(seconds)).toBe(text));
});
