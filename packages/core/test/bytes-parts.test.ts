import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { concatBytes, partsLength, partsOf } from '../src/bytes.ts';

describe('bytes in parts', () => {
  it('partsLength counts what concatBytes joins, whatever the parts', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 64 }), { maxLength: 8 }), (parts) => {
        expect(partsLength(parts)).toBe(concatBytes(...parts).length);
      }),
    );
  });

  it('partsOf gives parts as they are, and whole bytes as one part', () => {
    const whole = Uint8Array.of(1, 2, 3);
    expect(partsOf(whole)).toEqual([whole]);
    expect(partsOf(whole)[0]).toBe(whole); // not a copy
    const parts = [Uint8Array.of(1), Uint8Array.of(2, 3)];
    expect(partsOf(parts)).toBe(parts);
    expect(partsLength([])).toBe(0);
  });
});
