import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fromHex, toHex } from '../src/bytes.ts';
import {
  isPaddedLength,
  MAX_PADDED_BYTES,
  MAX_TEXT_BYTES,
  pad,
  paddedLength,
  unpad,
} from '../src/crypto/padding.ts';

describe('padding: buckets', () => {
  it.each([
    [0, 32],
    [31, 32],
    [32, 64],
    [100, 128],
    [4095, 4096],
    [4096, 8192],
    [8191, 8192],
    [12000, 12288],
    [MAX_TEXT_BYTES, 20480],
  ])('%i bytes of text pad to %i', (length, bucket) => {
    expect(pad(new Uint8Array(length).fill(0x61)).length).toBe(bucket);
  });

  it('the largest frame body is 20 KiB', () => {
    expect(MAX_PADDED_BYTES).toBe(20480);
    expect(paddedLength(MAX_TEXT_BYTES + 1)).toBe(20480);
  });

  it('knows exactly the bucket sizes', () => {
    const buckets = [32, 64, 128, 256, 512, 1024, 2048, 4096, 8192, 12288, 16384, 20480];
    for (let n = 0; n <= MAX_PADDED_BYTES + 4096; n++) expect(isPaddedLength(n)).toBe(buckets.includes(n));
  });

  it('uses 0x80 then zeros', () => {
    expect(toHex(pad(fromHex('6869')))).toBe('686980' + '00'.repeat(29));
  });
});

describe('padding: rejection', () => {
  it('refuses text above the limit as bad-input', () => {
    expect(() => pad(new Uint8Array(MAX_TEXT_BYTES + 1))).toThrow(
      expect.objectContaining({ code: 'bad-input' }),
    );
  });

  it.each([
    ['all zeros', '00'.repeat(32)],
    ['no 0x80 marker', '6869' + '01' + '00'.repeat(29)],
    ['a length that is not a bucket', '686980' + '00'.repeat(30)],
    ['a bucket larger than needed', '686980' + '00'.repeat(61)],
  ])('unpad refuses %s as bad-frame', (_name, hex) => {
    expect(() => unpad(fromHex(hex))).toThrow(expect.objectContaining({ code: 'bad-frame' }));
  });
});

describe('padding: properties', () => {
  it('any text round-trips and the padded length is its bucket', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 9000 }), (text) => {
        const padded = pad(text);
        expect(padded.length).toBe(paddedLength(text.length + 1));
        expect(toHex(unpad(padded))).toBe(toHex(text));
      }),
      { numRuns: 100 },
    );
  });
});
