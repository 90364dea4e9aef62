import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fromHex, toHex } from '../src/bytes.ts';
import {
  decodeFrame,
  encodeFrame,
  encodePayloadFrame,
  MAX_FRAME_BYTES,
  messageHeader,
  type ModernFrame,
} from '../src/crypto/modern-frame.ts';
import { isDuetError } from '../src/errors.ts';

const bytes = (length: number, fill: number) => new Uint8Array(length).fill(fill);
const MESSAGE = {
  type: 'message',
  dh: bytes(32, 0),
  pn: 0,
  n: 0,
  ciphertext: bytes(48, 0),
  mac: bytes(16, 0),
} as const;

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
    ['hello', { type: 'hello', attempt: 2, nonce: bytes(16, 0xaa) }, '030101' + '00000002' + 'aa'.repeat(16)],
    [
      'cpace-a',
      { type: 'cpace-a', attempt: 1, share: bytes(32, 0x11), ad: fromHex('414461') },
      '030102' + '00000001' + '11'.repeat(32) + '03' + '414461',
    ],
    [
      'cpace-b',
      { type: 'cpace-b', attempt: 1, share: bytes(32, 0x22), ad: new Uint8Array(0), tag: bytes(64, 0x33) },
      '030103' + '00000001' + '22'.repeat(32) + '00' + '33'.repeat(64),
    ],
    [
      'confirm',
      { type: 'confirm', attempt: 258, tag: bytes(64, 0x44) },
      '030104' + '00000102' + '44'.repeat(64),
    ],
    ['abort', { type: 'abort', attempt: 3, reason: 'passphrase-mismatch' }, '030105' + '00000003' + '01'],
    ['abort', { type: 'abort', attempt: 3, reason: 'handshake-failed' }, '030105' + '00000003' + '02'],
    [
      'message',
      {
        type: 'message',
        dh: bytes(32, 0x66),
        pn: 7,
        n: 5,
        ciphertext: bytes(48, 0x55),
        mac: bytes(16, 0x77),
      },
      '030110' + '66'.repeat(32) + '00000007' + '00000005' + '55'.repeat(48) + '77'.repeat(16),
    ],
    [
      'data',
      {
        type: 'data',
        dh: bytes(32, 0x67),
        pn: 0,
        n: 6,
        ciphertext: bytes(48, 0x66),
        mac: bytes(16, 0x78),
      },
      '030111' + '67'.repeat(32) + '00000000' + '00000006' + '66'.repeat(48) + '78'.repeat(16),
    ],
  ];

  for (const [name, frame, hex] of cases) {
    it(`encodes and decodes ${name} exactly`, () => {
      expect(toHex(encodeFrame(frame))).toBe(hex);
      expect(decodeFrame(fromHex(hex))).toEqual(frame);
    });
  }

  it('the message header is the AEAD associated data: version, suite, type, dh, pn, n', () => {
    expect(toHex(messageHeader({ dh: bytes(32, 0x66), pn: 0x01020304, n: 0xffff_ffff }))).toBe(
      '030110' + '66'.repeat(32) + '01020304' + 'ffffffff',
    );
  });

  it('the largest message frame (a text, 20 KiB bucket) is 20,555 bytes long and decodes', () => {
    const frame: ModernFrame = {
      type: 'message',
      dh: bytes(32, 1),
      pn: 0,
      n: 0,
      ciphertext: bytes(20_480 + 16, 2),
      mac: bytes(16, 3),
    };
    const encoded = encodeFrame(frame);
    expect(encoded.length).toBe(20_555);
    expect(decodeFrame(encoded)).toEqual(frame);
  });
});

describe('modern frames: rejection', () => {
  it.each([
    ['empty', ''],
    ['only a header', '030101'],
    ['version 1 (the symmetric ratchet)', '010101' + '00000002' + 'aa'.repeat(16)],
    ['version 2 (the Double Ratchet before the direct path)', '020101' + '00000002' + 'aa'.repeat(16)],
    ['an unknown version', '040101' + '00000002' + 'aa'.repeat(16)],
    ['an unknown suite', '030201' + '00000002' + 'aa'.repeat(16)],
    ['an unknown type', '030106' + '00000002' + 'aa'.repeat(16)],
    ['a short hello', '030101' + '00000002' + 'aa'.repeat(15)],
    ['a long hello', '030101' + '00000002' + 'aa'.repeat(17)],
    ['cpace-a with AD longer than 64', '030102' + '00000001' + '11'.repeat(32) + '41' + '00'.repeat(65)],
    ['cpace-a whose AD length disagrees', '030102' + '00000001' + '11'.repeat(32) + '03' + '4144'],
    ['cpace-b without its tag', '030103' + '00000001' + '22'.repeat(32) + '00' + '33'.repeat(63)],
    ['a short confirm', '030104' + '00000001' + '44'.repeat(63)],
    ['an unknown abort reason', '030105' + '00000003' + '03'],
    ['abort reason 0', '030105' + '00000003' + '00'],
    ['a message shorter than one bucket', '030110' + '66'.repeat(40) + '55'.repeat(47) + '77'.repeat(16)],
    ['a message that is not a bucket', '030110' + '66'.repeat(40) + '55'.repeat(49) + '77'.repeat(16)],
    ['a message without its MAC', '030110' + '66'.repeat(40) + '55'.repeat(48)],
    ['a version 1 message', '010110' + '0000000000000005' + '55'.repeat(48)],
  ])('refuses %s as bad-frame', (_name, hex) => {
    expect(codeOf(fromHex(hex))).toBe('bad-frame');
  });

  it.each([
    ['a long abort', '030105' + '00000003' + '01' + '00'],
    ['a short abort', '030105' + '00000003'],
    ['a long confirm', '030104' + '00000001' + '44'.repeat(65)],
    ['a cpace-b with a byte too many', '030103' + '00000001' + '22'.repeat(32) + '00' + '33'.repeat(65)],
    ['a cpace-a cut inside its share', '030102' + '00000001' + '11'.repeat(20)],
    ['a frame of type 0', '030100' + '00000001' + 'aa'.repeat(16)],
    ['a message cut inside its header', '030110' + '66'.repeat(39)],
  ])('refuses %s as bad-frame', (_name, hex) => {
    expect(codeOf(fromHex(hex))).toBe('bad-frame');
  });

  it('takes the edges: pn and n of 2^32 − 1, AD of 64 bytes, the largest message', () => {
    const top = decodeFrame(
      fromHex('030110' + '66'.repeat(32) + 'ffffffff'.repeat(2) + '55'.repeat(48) + '77'.repeat(16)),
    );
    expect(top).toEqual({
      type: 'message',
      dh: bytes(32, 0x66),
      pn: 0xffff_ffff,
      n: 0xffff_ffff,
      ciphertext: bytes(48, 0x55),
      mac: bytes(16, 0x77),
    });
    const ad = bytes(64, 0x41);
    const share = { type: 'cpace-a', attempt: 1, share: bytes(32, 0x11), ad } as const;
    expect(decodeFrame(encodeFrame(share))).toEqual(share);
    const largest = {
      type: 'message',
      dh: bytes(32, 0x66),
      pn: 0,
      n: 1,
      ciphertext: bytes(20_480 + 16, 0x66),
      mac: bytes(16, 0x77),
    } as const;
    // The largest message (a text): its bucket is 20 KiB; only data frames go up to MAX_FRAME_BYTES.
    expect(encodeFrame(largest).length).toBe(20_555);
    expect(decodeFrame(encodeFrame(largest))).toEqual(largest);
  });

  it('refuses a frame that is not a Uint8Array', () => {
    expect(codeOf([1, 1, 1] as unknown as Uint8Array)).toBe('bad-frame');
    expect(codeOf('010101' as unknown as Uint8Array)).toBe('bad-frame');
    // An abort frame's numbers in a plain array: right version, suite and type, still no bytes.
    const abort = [...fromHex('030105' + '00000003' + '02')];
    expect(codeOf(abort as unknown as Uint8Array)).toBe('bad-frame');
  });

  it('decodes a frame that is a view into a larger buffer', () => {
    const buffer = fromHex('ffff' + '030105' + '00000003' + '02' + 'ffff');
    expect(decodeFrame(buffer.subarray(2, 10))).toEqual({
      type: 'abort',
      attempt: 3,
      reason: 'handshake-failed',
    });
  });

  it('a data frame may use buckets up to 60 KiB; a message frame only up to 20 KiB', () => {
    expect(MAX_FRAME_BYTES).toBe(43 + 61440 + 16 + 16);
    const fields = { dh: bytes(32, 1), pn: 0, n: 1, mac: bytes(16, 2) };
    const body = new Uint8Array(24576 + 16);
    expect(decodeFrame(encodeFrame({ type: 'data', ...fields, ciphertext: body })).type).toBe('data');
    expect(() => encodeFrame({ type: 'message', ...fields, ciphertext: body })).toThrow(/bucket/);
    const asMessage = encodeFrame({ type: 'data', ...fields, ciphertext: body });
    asMessage[2] = 0x10;
    expect(codeOf(asMessage)).toBe('bad-frame');
    // The largest data frame is MAX_FRAME_BYTES long and decodes; one bucket more does not encode.
    const largest = { type: 'data', ...fields, ciphertext: new Uint8Array(61440 + 16) } as const;
    expect(encodeFrame(largest).length).toBe(MAX_FRAME_BYTES);
    expect(decodeFrame(encodeFrame(largest))).toEqual(largest);
    expect(() => encodeFrame({ ...largest, ciphertext: new Uint8Array(61440 + 4096 + 16) })).toThrow(
      /bucket/,
    );
  });

  it('the header names the payload type: data (0x11) or message (0x10, the default)', () => {
    const fields = { dh: bytes(32, 1), pn: 2, n: 3 };
    expect(messageHeader(fields)[2]).toBe(0x10);
    expect(messageHeader({ ...fields, type: 'message' })[2]).toBe(0x10);
    expect(messageHeader({ ...fields, type: 'data' })[2]).toBe(0x11);
  });

  it('refuses oversized input before reading it', () => {
    const big = new Uint8Array(MAX_FRAME_BYTES + 1);
    big.set(fromHex('030110'));
    expect(codeOf(big)).toBe('bad-frame');
    // Not one byte of it is looked at: only its length.
    const read: PropertyKey[] = [];
    const watched = new Proxy(big, {
      get(target, key) {
        read.push(key);
        const value: unknown = Reflect.get(target, key, target);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    expect(codeOf(watched)).toBe('bad-frame');
    expect(read.filter((key) => typeof key === 'string' && /^\d+$/.test(key))).toEqual([]);
    expect(read).toContain('length');
  });

  it('refuses to encode fields of the wrong size', () => {
    expect(() => encodeFrame({ type: 'hello', attempt: 1, nonce: bytes(15, 0) })).toThrow(/nonce must be 16/);
    expect(() => encodeFrame({ type: 'hello', attempt: -1, nonce: bytes(16, 0) })).toThrow(/attempt/);
    expect(() => encodeFrame({ type: 'confirm', attempt: 1, tag: bytes(32, 0) })).toThrow(/tag must be 64/);
    const message = {
      type: 'message',
      dh: bytes(32, 0),
      pn: 0,
      n: 0,
      ciphertext: bytes(48, 0),
      mac: bytes(16, 0),
    } as const;
    expect(() => encodeFrame({ ...message, ciphertext: bytes(40, 0) })).toThrow(/bucket/);
    expect(() => encodeFrame({ ...message, dh: bytes(31, 0) })).toThrow(/dh must be 32/);
    expect(() => encodeFrame({ ...message, mac: bytes(32, 0) })).toThrow(/MAC must be 16/);
    expect(() => encodeFrame({ ...message, n: 2 ** 32 })).toThrow(/n must be/);
    expect(() => encodeFrame({ ...message, pn: -1 })).toThrow(/pn must be/);
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
    ['a negative n', { ...MESSAGE, n: -1 }],
    ['an n of 2^32', { ...MESSAGE, n: 2 ** 32 }],
    ['a fractional pn', { ...MESSAGE, pn: 0.5 }],
    ['a pn of 2^32', { ...MESSAGE, pn: 2 ** 32 }],
    ['a dh that is not bytes', { ...MESSAGE, dh: 'dh' as unknown as Uint8Array }],
    ['a MAC of 15 bytes', { ...MESSAGE, mac: bytes(15, 0) }],
    ['a message body above the largest bucket', { ...MESSAGE, ciphertext: bytes(20_480 + 4096 + 16, 0) }],
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

  it('the message header refuses a pn or n that is not an integer in [0, 2^32)', () => {
    for (const value of [-1, 0.5, 2 ** 32, Number.NaN]) {
      for (const field of ['pn', 'n'] as const) {
        expect(
          () => messageHeader({ dh: bytes(32, 0), pn: 0, n: 0, [field]: value }),
          `${field} ${value}`,
        ).toThrow(expect.objectContaining({ code: 'bad-input' }));
      }
    }
    expect(toHex(messageHeader({ dh: bytes(32, 1), pn: 0xffff_ffff, n: 0xffff_ffff }))).toBe(
      '030110' + '01'.repeat(32) + 'ffffffffffffffff',
    );
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
      dh: b(32),
      pn: fc.integer({ min: 0, max: 0xffff_ffff }),
      n: fc.integer({ min: 0, max: 0xffff_ffff }),
      ciphertext: fc.constantFrom(32, 64, 128, 4096, 8192).chain((n) => b(n + 16)),
      mac: b(16),
    }),
    fc.record({
      type: fc.constant('data' as const),
      dh: b(32),
      pn: fc.integer({ min: 0, max: 0xffff_ffff }),
      n: fc.integer({ min: 0, max: 0xffff_ffff }),
      mac: b(16),
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

describe('modern frames: a payload frame from ciphertext in parts', () => {
  const fields = { dh: new Uint8Array(32).fill(1), pn: 2, n: 3 };
  const mac = new Uint8Array(16).fill(4);

  it('is the frame encodeFrame gives for the joined ciphertext, however it is cut (property)', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(32, 4096, 61440),
        fc.nat({ max: 61456 }),
        fc.boolean(),
        (bucket, cut, data) => {
          const ciphertext = new Uint8Array(bucket + 16).map((_, i) => i % 251);
          const at = Math.min(cut, ciphertext.length);
          const type = data ? 'data' : 'message';
          if (type === 'message' && bucket > 20480) return;
          const whole = encodeFrame({ type, ...fields, ciphertext, mac });
          const parts = [ciphertext.subarray(0, at), ciphertext.subarray(at)];
          expect(toHex(encodePayloadFrame({ type, ...fields }, parts, mac))).toBe(toHex(whole));
        },
      ),
      { numRuns: 100 },
    );
  });

  it('refuses parts that are no bucket + tag together, or not bytes, as bad-input', () => {
    const half = new Uint8Array(24);
    expect(() => encodePayloadFrame({ type: 'data', ...fields }, [half, half], mac)).not.toThrow();
    expect(() => encodePayloadFrame({ type: 'data', ...fields }, [half, half, half], mac)).toThrow(/bucket/);
    // Not bytes, even with a length that would add up to a bucket.
    const lookalike = { length: 24 } as unknown as Uint8Array;
    expect(() => encodePayloadFrame({ type: 'data', ...fields }, [half, lookalike], mac)).toThrow(
      expect.objectContaining({ code: 'bad-input', message: expect.stringMatching(/must be bytes/) }),
    );
  });
});
