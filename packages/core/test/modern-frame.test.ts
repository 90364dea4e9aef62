import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fromHex, toHex } from '../src/bytes.ts';
import {
  decodeFrame,
  encodeFrame,
  MAX_FRAME_BYTES,
  messageHeader,
  type ModernFrame,
} from '../src/crypto/modern-frame.ts';
import { isDuetError } from '../src/errors.ts';

const bytes = (length: number, fill: number) => new Uint8Array(length).fill(fill);

function codeOf(input: Uint8Array): string | undefined {
  try {
    decodeFrame(input);
    return undefined;
  } catch (error) {
    return isDuetError(error) ? error.code : 'not-a-duet-error';
  }
}

describe('modern frames: exact bytes', () => {
  const cases: [string, ModernFrame, string][] = [
    ['hello', { type: 'hello', attempt: 2, nonce: bytes(16, 0xaa) }, '010101' + '00000002' + 'aa'.repeat(16)],
    [
      'cpace-a',
      { type: 'cpace-a', attempt: 1, share: bytes(32, 0x11), ad: fromHex('414461') },
      '010102' + '00000001' + '11'.repeat(32) + '03' + '414461',
    ],
    [
      'cpace-b',
      { type: 'cpace-b', attempt: 1, share: bytes(32, 0x22), ad: new Uint8Array(0), tag: bytes(64, 0x33) },
      '010103' + '00000001' + '22'.repeat(32) + '00' + '33'.repeat(64),
    ],
    [
      'confirm',
      { type: 'confirm', attempt: 258, tag: bytes(64, 0x44) },
      '010104' + '00000102' + '44'.repeat(64),
    ],
    ['abort', { type: 'abort', attempt: 3, reason: 'passphrase-mismatch' }, '010105' + '00000003' + '01'],
    ['abort', { type: 'abort', attempt: 3, reason: 'handshake-failed' }, '010105' + '00000003' + '02'],
    [
      'message',
      { type: 'message', seq: 5, ciphertext: bytes(48, 0x55) },
      '010110' + '0000000000000005' + '55'.repeat(48),
    ],
    [
      'data',
      { type: 'data', seq: 6, ciphertext: bytes(48, 0x66) },
      '010111' + '0000000000000006' + '66'.repeat(48),
    ],
  ];

  for (const [name, frame, hex] of cases) {
    it(`encodes and decodes ${name} exactly`, () => {
      expect(toHex(encodeFrame(frame))).toBe(hex);
      expect(decodeFrame(fromHex(hex))).toEqual(frame);
    });
  }

  it('the message header is the AEAD associated data: version, suite, type, seq', () => {
    expect(toHex(messageHeader(0x0102030405))).toBe('0101100000000102030405');
  });
});

describe('modern frames: rejection', () => {
  it.each([
    ['empty', ''],
    ['only a header', '010101'],
    ['an unknown version', '020101' + '00000002' + 'aa'.repeat(16)],
    ['an unknown suite', '010201' + '00000002' + 'aa'.repeat(16)],
    ['an unknown type', '010106' + '00000002' + 'aa'.repeat(16)],
    ['a short hello', '010101' + '00000002' + 'aa'.repeat(15)],
    ['a long hello', '010101' + '00000002' + 'aa'.repeat(17)],
    ['cpace-a with AD longer than 64', '010102' + '00000001' + '11'.repeat(32) + '41' + '00'.repeat(65)],
    ['cpace-a whose AD length disagrees', '010102' + '00000001' + '11'.repeat(32) + '03' + '4144'],
    ['cpace-b without its tag', '010103' + '00000001' + '22'.repeat(32) + '00' + '33'.repeat(63)],
    ['a short confirm', '010104' + '00000001' + '44'.repeat(63)],
    ['an unknown abort reason', '010105' + '00000003' + '03'],
    ['abort reason 0', '010105' + '00000003' + '00'],
    ['a message shorter than one bucket', '010110' + '00'.repeat(8) + '55'.repeat(47)],
    ['a message that is not a bucket', '010110' + '00'.repeat(8) + '55'.repeat(49)],
    ['a seq above 2^53', '010110' + 'ffffffffffffffff' + '55'.repeat(48)],
  ])('refuses %s as bad-frame', (_name, hex) => {
    expect(codeOf(fromHex(hex))).toBe('bad-frame');
  });

  it.each([
    ['a long abort', '010105' + '00000003' + '01' + '00'],
    ['a short abort', '010105' + '00000003'],
    ['a long confirm', '010104' + '00000001' + '44'.repeat(65)],
    ['a cpace-b with a byte too many', '010103' + '00000001' + '22'.repeat(32) + '00' + '33'.repeat(65)],
    ['a cpace-a cut inside its share', '010102' + '00000001' + '11'.repeat(20)],
    ['a frame of type 0', '010100' + '00000001' + 'aa'.repeat(16)],
    ['a message at seq 2^53', '010110' + '0020000000000000' + '55'.repeat(48)],
  ])('refuses %s as bad-frame', (_name, hex) => {
    expect(codeOf(fromHex(hex))).toBe('bad-frame');
  });

  it('takes the edges: seq 2^53 − 1, AD of 64 bytes, the largest message', () => {
    const top = decodeFrame(fromHex('010110' + '001fffffffffffff' + '55'.repeat(48)));
    expect(top).toEqual({ type: 'message', seq: Number.MAX_SAFE_INTEGER, ciphertext: bytes(48, 0x55) });
    const ad = bytes(64, 0x41);
    const share = { type: 'cpace-a', attempt: 1, share: bytes(32, 0x11), ad } as const;
    expect(decodeFrame(encodeFrame(share))).toEqual(share);
    // The largest message (a text): its bucket is 20 KiB; only data frames go up to MAX_FRAME_BYTES.
    const largest = { type: 'message', seq: 1, ciphertext: bytes(20_507 - 11, 0x66) } as const;
    expect(encodeFrame(largest).length).toBe(20_507);
    expect(decodeFrame(encodeFrame(largest))).toEqual(largest);
  });

  it('refuses a frame that is not a Uint8Array', () => {
    expect(codeOf([1, 1, 1] as unknown as Uint8Array)).toBe('bad-frame');
    expect(codeOf('010101' as unknown as Uint8Array)).toBe('bad-frame');
  });

  it('decodes a frame that is a view into a larger buffer', () => {
    const buffer = fromHex('ffff' + '010105' + '00000003' + '02' + 'ffff');
    expect(decodeFrame(buffer.subarray(2, 10))).toEqual({
      type: 'abort',
      attempt: 3,
      reason: 'handshake-failed',
    });
  });

  it('a data frame may use buckets up to 60 KiB; a message frame only up to 20 KiB', () => {
    expect(MAX_FRAME_BYTES).toBe(11 + 61440 + 16);
    const body = new Uint8Array(24576 + 16);
    expect(decodeFrame(encodeFrame({ type: 'data', seq: 1, ciphertext: body })).type).toBe('data');
    expect(() => encodeFrame({ type: 'message', seq: 1, ciphertext: body })).toThrow(/bucket/);
    const asMessage = encodeFrame({ type: 'data', seq: 1, ciphertext: body });
    asMessage[2] = 0x10;
    expect(codeOf(asMessage)).toBe('bad-frame');
  });

  it('refuses oversized input before reading it', () => {
    const big = new Uint8Array(MAX_FRAME_BYTES + 1);
    big.set(fromHex('010110'));
    expect(codeOf(big)).toBe('bad-frame');
  });

  it('refuses to encode fields of the wrong size', () => {
    expect(() => encodeFrame({ type: 'hello', attempt: 1, nonce: bytes(15, 0) })).toThrow(/nonce must be 16/);
    expect(() => encodeFrame({ type: 'hello', attempt: -1, nonce: bytes(16, 0) })).toThrow(/attempt/);
    expect(() => encodeFrame({ type: 'confirm', attempt: 1, tag: bytes(32, 0) })).toThrow(/tag must be 64/);
    expect(() => encodeFrame({ type: 'message', seq: 0, ciphertext: bytes(40, 0) })).toThrow(/bucket/);
  });

  it.each<[string, ModernFrame]>([
    ['a fractional attempt', { type: 'hello', attempt: 1.5, nonce: bytes(16, 0) }],
    ['an attempt of 2^32', { type: 'confirm', attempt: 2 ** 32, tag: bytes(64, 0) }],
    [
      'a nonce that is not bytes',
      { type: 'hello', attempt: 1, nonce: Array(16).fill(0) as unknown as Uint8Array },
    ],
    ['a share of 31 bytes', { type: 'cpace-a', attempt: 1, share: bytes(31, 0), ad: bytes(0, 0) }],
    ['an AD of 65 bytes', { type: 'cpace-a', attempt: 1, share: bytes(32, 0), ad: bytes(65, 0) }],
    [
      'an AD that is not bytes',
      { type: 'cpace-a', attempt: 1, share: bytes(32, 0), ad: 'ad' as unknown as Uint8Array },
    ],
    [
      'a Tb of 63 bytes',
      { type: 'cpace-b', attempt: 1, share: bytes(32, 0), ad: bytes(0, 0), tag: bytes(63, 0) },
    ],
    ['a negative seq', { type: 'message', seq: -1, ciphertext: bytes(48, 0) }],
    ['a seq of 2^53', { type: 'message', seq: 2 ** 53, ciphertext: bytes(48, 0) }],
    [
      'a message body above the largest bucket',
      { type: 'message', seq: 0, ciphertext: bytes(MAX_FRAME_BYTES - 11 + 4096, 0) },
    ],
  ])('refuses to encode %s as bad-input', (_name, frame) => {
    expect(() => encodeFrame(frame)).toThrow(expect.objectContaining({ code: 'bad-input' }));
  });

  it('names the field that has the wrong size', () => {
    const share = bytes(32, 0);
    expect(() => encodeFrame({ type: 'cpace-a', attempt: 1, share: bytes(31, 0), ad: bytes(0, 0) })).toThrow(
      /share must be 32/,
    );
    expect(() =>
      encodeFrame({ type: 'cpace-b', attempt: 1, share, ad: bytes(0, 0), tag: bytes(63, 0) }),
    ).toThrow(/tag must be 64/);
  });

  it('the message header refuses a seq that is not a safe integer', () => {
    for (const seq of [-1, 0.5, 2 ** 53, Number.NaN]) {
      expect(() => messageHeader(seq), String(seq)).toThrow(expect.objectContaining({ code: 'bad-input' }));
    }
    expect(toHex(messageHeader(Number.MAX_SAFE_INTEGER))).toBe('010110001fffffffffffff');
  });
});

describe('modern frames: properties', () => {
  const b = (length: number) => fc.uint8Array({ minLength: length, maxLength: length });
  const attempt = fc.integer({ min: 0, max: 0xffff_ffff });
  const frame: fc.Arbitrary<ModernFrame> = fc.oneof(
    fc.record({ type: fc.constant('hello' as const), attempt, nonce: b(16) }),
    fc.record({
      type: fc.constant('cpace-a' as const),
      attempt,
      share: b(32),
      ad: fc.uint8Array({ maxLength: 64 }),
    }),
    fc.record({
      type: fc.constant('cpace-b' as const),
      attempt,
      share: b(32),
      ad: fc.uint8Array({ maxLength: 64 }),
      tag: b(64),
    }),
    fc.record({ type: fc.constant('confirm' as const), attempt, tag: b(64) }),
    fc.record({
      type: fc.constant('abort' as const),
      attempt,
      reason: fc.constantFrom('passphrase-mismatch' as const, 'handshake-failed' as const),
    }),
    fc.record({
      type: fc.constant('message' as const),
      seq: fc.maxSafeNat(),
      ciphertext: fc.constantFrom(32, 64, 128, 4096, 8192).chain((n) => b(n + 16)),
    }),
    fc.record({
      type: fc.constant('data' as const),
      seq: fc.maxSafeNat(),
      // Filled rather than random: large random arrays make the property slow and add nothing.
      ciphertext: fc
        .tuple(fc.constantFrom(32, 4096, 24576), fc.integer({ min: 0, max: 255 }))
        .map(([n, fill]) => new Uint8Array(n + 16).fill(fill)),
    }),
  );

  it('every frame round-trips through encode and decode', () => {
    fc.assert(
      fc.property(frame, (f) => {
        expect(decodeFrame(encodeFrame(f))).toEqual(f);
      }),
      { numRuns: 300 },
    );
  });

  it('decoding random bytes throws nothing but DuetError bad-frame', () => {
    const prefixed = fc
      .tuple(fc.constantFrom(0, 1, 2), fc.constantFrom(0, 1, 2), fc.integer({ min: 0, max: 0x12 }))
      .chain(([v, s, t]) => fc.uint8Array({ maxLength: 200 }).map((rest) => Uint8Array.of(v, s, t, ...rest)));
    fc.assert(
      fc.property(fc.oneof(fc.uint8Array({ maxLength: 300 }), prefixed), (input) => {
        const code = codeOf(input);
        expect(code === undefined || code === 'bad-frame').toBe(true);
      }),
      { numRuns: 1000 },
    );
  });
});
