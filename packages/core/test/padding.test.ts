import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { concatBytes, fromHex, toHex } from '../src/bytes.ts';
import {
  isPaddedLength,
  MAX_DATA_BYTES,
  MAX_DATA_PADDED_BYTES,
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

describe('padding: binary payloads', () => {
  it('pads up to 60 KiB with the data limit, and refuses more as bad-input', () => {
    expect(MAX_DATA_PADDED_BYTES).toBe(61440);
    expect(pad(new Uint8Array(MAX_DATA_BYTES), MAX_DATA_BYTES).length).toBe(61440);
    expect(pad(new Uint8Array(MAX_TEXT_BYTES + 1), MAX_DATA_BYTES).length).toBe(20480);
    expect(() => pad(new Uint8Array(MAX_DATA_BYTES + 1), MAX_DATA_BYTES)).toThrow(
      expect.objectContaining({ code: 'bad-input' }),
    );
  });

  it('a text is never unpadded from a data-sized bucket', () => {
    const padded = pad(new Uint8Array(30000), MAX_DATA_BYTES);
    expect(unpad(padded, MAX_DATA_BYTES).length).toBe(30000);
    expect(() => unpad(padded)).toThrow(expect.objectContaining({ code: 'bad-frame' }));
    expect(isPaddedLength(padded.length)).toBe(false);
    expect(isPaddedLength(padded.length, MAX_DATA_PADDED_BYTES)).toBe(true);
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

describe('padding: limits', () => {
  const padded = (textBytes: number, bucket: number) => {
    const out = new Uint8Array(bucket);
    out.fill(0x61, 0, textBytes);
    out[textBytes] = 0x80;
    return out;
  };

  it('the largest text (16 KiB) pads to 20 KiB and back', () => {
    const text = new Uint8Array(MAX_TEXT_BYTES).fill(0x61);
    expect(unpad(pad(text))).toEqual(text);
    expect(unpad(padded(MAX_TEXT_BYTES, MAX_PADDED_BYTES)).length).toBe(MAX_TEXT_BYTES);
  });

  it('unpad refuses more text than pad would take, even in a bucket that holds it', () => {
    for (const length of [MAX_TEXT_BYTES + 1, 17_000, MAX_PADDED_BYTES - 1]) {
      expect(() => unpad(padded(length, MAX_PADDED_BYTES)), String(length)).toThrow(
        expect.objectContaining({ code: 'bad-frame' }),
      );
    }
  });

  it('unpad refuses a bucket above the largest', () => {
    expect(() => unpad(padded(0, MAX_PADDED_BYTES + 4096))).toThrow(
      expect.objectContaining({ code: 'bad-frame' }),
    );
    expect(() => unpad(padded(MAX_PADDED_BYTES, MAX_PADDED_BYTES + 4096))).toThrow(
      expect.objectContaining({ code: 'bad-frame' }),
    );
  });

  it('unpad refuses a length that is no bucket, wherever the marker is', () => {
    for (const [textBytes, length] of [
      [32, 33], // the marker in the last byte
      [2, 33],
      [0, 1],
      [62, 63],
      [4096, 4097],
      [4100, 8191],
    ] as const) {
      expect(() => unpad(padded(textBytes, length)), `${textBytes} in ${length}`).toThrow(
        expect.objectContaining({ code: 'bad-frame' }),
      );
    }
    expect(() => unpad(new Uint8Array(0))).toThrow(expect.objectContaining({ code: 'bad-frame' }));
  });

  it('an empty text is the marker alone; a marker in the last byte fills the bucket', () => {
    expect(toHex(unpad(padded(0, 32)))).toBe('');
    expect(unpad(padded(31, 32)).length).toBe(31);
    expect(unpad(padded(4095, 4096)).length).toBe(4095);
    expect(() => unpad(padded(4095, 8192))).toThrow(expect.objectContaining({ code: 'bad-frame' }));
    expect(unpad(padded(4096, 8192)).length).toBe(4096);
  });

  it('bucket edges: text + marker fits exactly, or takes the next bucket', () => {
    expect(paddedLength(1)).toBe(32);
    expect(paddedLength(32)).toBe(32);
    expect(paddedLength(33)).toBe(64);
    expect(paddedLength(4096)).toBe(4096);
    expect(paddedLength(4097)).toBe(8192);
    expect(paddedLength(8193)).toBe(12288);
  });

  it('a length that is not a whole number is not a bucket', () => {
    expect(isPaddedLength(32.5)).toBe(false);
    expect(isPaddedLength(Number.NaN)).toBe(false);
    expect(isPaddedLength(-32)).toBe(false);
    expect(isPaddedLength(Number.POSITIVE_INFINITY)).toBe(false);
    expect(isPaddedLength(Number.NEGATIVE_INFINITY)).toBe(false);
  });
});

describe('padding: parts and a given buffer', () => {
  it('pads parts as their concatenation (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 9000 }), { maxLength: 8 }), (parts) => {
        expect(toHex(pad(parts, MAX_DATA_BYTES))).toBe(toHex(pad(concatBytes(...parts), MAX_DATA_BYTES)));
      }),
      { numRuns: 200 },
    );
  });

  it('refuses parts longer than the limit together, as bad-input', () => {
    const half = new Uint8Array(MAX_TEXT_BYTES / 2 + 1);
    expect(() => pad([half, half])).toThrow(expect.objectContaining({ code: 'bad-input' }));
  });

  it('pads into a given buffer: a view of it, its padding zeroed whatever was there', () => {
    const into = new Uint8Array(MAX_DATA_PADDED_BYTES).fill(0xee);
    const padded = pad([Uint8Array.of(1, 2), Uint8Array.of(3)], MAX_DATA_BYTES, into);
    expect(padded.buffer).toBe(into.buffer);
    expect(padded.length).toBe(32);
    expect(toHex(padded)).toBe(toHex(pad(Uint8Array.of(1, 2, 3))));
    expect(toHex(unpad(padded, MAX_DATA_BYTES))).toBe('010203');
  });

  it('pads the largest payload into a buffer of exactly its bucket', () => {
    const into = new Uint8Array(MAX_DATA_PADDED_BYTES);
    const padded = pad(new Uint8Array(MAX_DATA_BYTES).fill(1), MAX_DATA_BYTES, into);
    expect(padded.buffer).toBe(into.buffer);
    expect(padded[MAX_DATA_BYTES]).toBe(0x80);
  });

  it('pads into a new array when the given buffer is too small for the bucket', () => {
    const into = new Uint8Array(16);
    const padded = pad(new Uint8Array(40).fill(5), MAX_DATA_BYTES, into);
    expect(padded.buffer).not.toBe(into.buffer);
    expect(padded.length).toBe(64);
    expect(into.every((byte) => byte === 0)).toBe(true);
  });
});
