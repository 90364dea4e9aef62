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
      .tuple(fc.constantFrom(0, 1, 2), fc.constantFrom(0, 1, 2), fc.integer({ min: 0, max: 0x11 }))
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
