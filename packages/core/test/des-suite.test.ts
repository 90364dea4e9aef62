import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fromHex, toHex } from '../src/bytes.ts';
import {
  deriveDesKey,
  desDecrypt,
  desEncrypt,
  isDesDecryptError,
  roomSalt,
} from '../src/crypto/des-suite.ts';
import { duetError } from '../src/errors.ts';

interface SeedCase {
  password: string;
  salt_hex: string;
  key_hex: string;
  iv_hex: string;
  plaintext: string;
  frame_hex: string;
}
interface SeedVectors {
  cases: SeedCase[];
  wrong_password_cases: {
    sender_password: string;
    receiver_password: string;
    salt_hex: string;
    frame_hex: string;
  }[];
}

// A test that cannot find its vectors fails: readFileSync throws.
const vectors = JSON.parse(
  readFileSync(new URL('./fixtures/seed-des-cbc.json', import.meta.url), 'utf8'),
) as SeedVectors;

describe('des suite: seed vectors (shared/vectors/seed-des-cbc.json)', () => {
  it('has cases to run', () => {
    expect(vectors.cases.length).toBeGreaterThan(0);
    expect(vectors.wrong_password_cases.length).toBeGreaterThan(0);
  });

  for (const c of vectors.cases) {
    it(`derives the key, encrypts byte-exact and decrypts back: ${JSON.stringify(c.plaintext)}`, async () => {
      const key = await deriveDesKey(c.password, fromHex(c.salt_hex));
      expect(toHex(key)).toBe(c.key_hex);
      expect(toHex(desEncrypt(key, c.plaintext, fromHex(c.iv_hex)))).toBe(c.frame_hex);
      expect(desDecrypt(key, fromHex(c.frame_hex))).toBe(c.plaintext);
    });
  }
});

describe('des suite: rejection', () => {
  for (const c of vectors.wrong_password_cases) {
    it(`rejects a frame made with ${JSON.stringify(c.sender_password)} as des-bad-padding`, async () => {
      const key = await deriveDesKey(c.receiver_password, fromHex(c.salt_hex));
      expect(() => desDecrypt(key, fromHex(c.frame_hex))).toThrow(
        expect.objectContaining({ code: 'des-bad-padding' }),
      );
    });
  }

  const key = fromHex('02310727a8f81efd');

  it('rejects a frame shorter than IV + one block as des-too-short', () => {
    expect(() => desDecrypt(key, fromHex('3671066'.padEnd(16, '0')))).toThrow(
      expect.objectContaining({ code: 'des-too-short' }),
    );
    expect(() => desDecrypt(key, new Uint8Array(0))).toThrow(
      expect.objectContaining({ code: 'des-too-short' }),
    );
  });

  it('rejects a ciphertext that is not block-aligned as des-not-block-aligned', () => {
    expect(() => desDecrypt(key, fromHex('36710664d61b9295e805a532cd349daeff'))).toThrow(
      expect.objectContaining({ code: 'des-not-block-aligned' }),
    );
  });

  it('rejects valid padding around bytes that are not UTF-8 as des-not-utf8', () => {
    // Found by search: the plaintext block ff 07 07 07 07 07 07 07 is padded correctly but 0xff is not UTF-8.
    const frame = findFrameWithPlaintext(key, Uint8Array.of(0xff, 7, 7, 7, 7, 7, 7, 7));
    expect(() => desDecrypt(key, frame)).toThrow(expect.objectContaining({ code: 'des-not-utf8' }));
  });

  it('checks key and IV lengths and names the bad input', () => {
    expect(() => desEncrypt(new Uint8Array(7), 'x')).toThrow(/key must be 8 bytes/);
    expect(() => desEncrypt(key, 'x', new Uint8Array(9))).toThrow(/iv must be 8 bytes/);
    expect(() => desDecrypt(new Uint8Array(9), new Uint8Array(16))).toThrow(/key must be 8 bytes/);
    expect(() => desDecrypt('key' as unknown as Uint8Array, new Uint8Array(16))).toThrow(
      expect.objectContaining({ code: 'bad-input' }),
    );
  });

  it('any frame is refused with the code its shape calls for, or decrypts to a text that re-encrypts to it', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (frame) => {
        let text: string | undefined;
        let code: string | undefined;
        try {
          text = desDecrypt(key, frame);
        } catch (error) {
          expect(isDesDecryptError(error), String(error)).toBe(true);
          code = (error as { code?: string }).code;
        }
        if (frame.length < 16) expect(code).toBe('des-too-short');
        else if (frame.length % 8 !== 0) expect(code).toBe('des-not-block-aligned');
        else if (text === undefined) expect(['des-bad-padding', 'des-not-utf8']).toContain(code);
        else expect(toHex(desEncrypt(key, text, frame.subarray(0, 8)))).toBe(toHex(frame));
      }),
      { numRuns: 300 },
    );
  });

  it('strict PKCS#7: a block decrypts only if its last n bytes all equal n (1 ≤ n ≤ 8) and the rest is UTF-8', () => {
    // A one-block frame whose plaintext is `block` (CBC lets the IV choose it), then the expected
    // outcome from the rule itself, written out again here.
    const block = fc
      .tuple(
        fc.oneof(
          { weight: 4, arbitrary: fc.integer({ min: 1, max: 8 }) },
          { weight: 1, arbitrary: fc.nat({ max: 255 }) },
        ),
        fc.oneof(
          fc.uint8Array({ minLength: 8, maxLength: 8 }),
          fc.uint8Array({ minLength: 8, maxLength: 8 }).map((b) => b.map((x) => x & 0x7f)),
        ),
        fc.option(fc.tuple(fc.integer({ min: 0, max: 7 }), fc.nat({ max: 255 })), { freq: 2 }),
      )
      .map(([count, fill, corrupt]) => {
        const out = fill.slice();
        for (let i = Math.max(0, 8 - count); i < 8; i++) out[i] = count;
        if (corrupt !== null) out[corrupt[0]] = corrupt[1];
        return out;
      });
    const seen = { ok: 0, padding: 0, utf8: 0 };
    fc.assert(
      fc.property(block, (plain) => {
        const count = plain[7] ?? 0;
        const padded = count >= 1 && count <= 8 && plain.subarray(8 - count).every((b) => b === count);
        let expected: string;
        if (!padded) expected = 'des-bad-padding';
        else {
          try {
            expected = new TextDecoder('utf-8', { fatal: true }).decode(plain.subarray(0, 8 - count));
          } catch {
            expected = 'des-not-utf8';
          }
        }
        let actual: string;
        try {
          actual = desDecrypt(key, findFrameWithPlaintext(key, plain));
        } catch (error) {
          actual = (error as { code: string }).code;
        }
        expect(actual, toHex(plain)).toBe(expected);
        if (expected === 'des-bad-padding') seen.padding += 1;
        else if (expected === 'des-not-utf8') seen.utf8 += 1;
        else seen.ok += 1;
      }),
      { numRuns: 1000 },
    );
    for (const outcome of Object.values(seen)) expect(outcome).toBeGreaterThan(50);
  });

  it.each([
    ['a full block of padding', '0808080808080808', ''],
    ['one byte of padding', '6162636465666701', 'abcdefg'],
    ['seven bytes of padding', '6107070707070707', 'a'],
  ])('takes %s', (_name, hex, text) => {
    expect(desDecrypt(key, findFrameWithPlaintext(key, fromHex(hex)))).toBe(text);
  });

  it.each([
    ['a count of 0', '6162636465666700'],
    ['a count of 9', '6109090909090909'],
    ['a count of 8 with the first byte wrong', '0708080808080808'],
    ['a count of 4 with the fourth byte from the end wrong', '6162636405040404'],
    ['a count of 2 with the byte before it wrong', '6162636465660102'],
    ['a count of 255', '61626364656666ff'],
  ])('refuses %s as des-bad-padding', (_name, hex) => {
    expect(() => desDecrypt(key, findFrameWithPlaintext(key, fromHex(hex)))).toThrow(
      expect.objectContaining({ code: 'des-bad-padding' }),
    );
  });

  it('every desDecrypt code, and only those, collapses into decrypt-failed (no padding oracle)', () => {
    for (const code of [
      'des-too-short',
      'des-not-block-aligned',
      'des-bad-padding',
      'des-not-utf8',
    ] as const) {
      expect(isDesDecryptError(duetError(code, 'x')), code).toBe(true);
    }
    for (const code of ['decrypt-failed', 'bad-input', 'tampered', 'bad-frame'] as const) {
      expect(isDesDecryptError(duetError(code, 'x')), code).toBe(false);
    }
    expect(isDesDecryptError(new Error('des-bad-padding'))).toBe(false);
    expect(isDesDecryptError({ code: 'des-bad-padding' })).toBe(false);
    expect(isDesDecryptError('des-bad-padding')).toBe(false);
    expect(isDesDecryptError(undefined)).toBe(false);
  });
});

describe('des suite: properties', () => {
  it('any text round-trips', () => {
    const key = fromHex('5ec02b91a4b59c6f');
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 200 }), (text) => {
        expect(desDecrypt(key, desEncrypt(key, text))).toBe(text);
      }),
      { numRuns: 200 },
    );
  });

  it('a fresh random IV for every message: the same text never gives the same frame', () => {
    const key = fromHex('5ec02b91a4b59c6f');
    const frames = new Set(Array.from({ length: 50 }, () => toHex(desEncrypt(key, 'hello'))));
    expect(frames.size).toBe(50);
  });

  it('the room salt is 16 bytes, stable per room and different between rooms', async () => {
    const a = await roomSalt('abcd-efgh-jkmn');
    expect(a.length).toBe(16);
    expect(toHex(await roomSalt('abcd-efgh-jkmn'))).toBe(toHex(a));
    expect(toHex(await roomSalt('abcd-efgh-jkmp'))).not.toBe(toHex(a));
  });
});

/** Decrypting random blocks under a fixed IV until one decrypts to `plain`: DES-CBC lets us set the IV. */
function findFrameWithPlaintext(key: Uint8Array, plain: Uint8Array): Uint8Array {
  // With CBC, plaintext = D(C) xor IV, so choose any C and set IV = D(C) xor plain.
  const zeroIv = new Uint8Array(8);
  const probe = desEncrypt(key, '', zeroIv); // IV(0) ‖ E(08*8)
  const block = probe.subarray(8, 16); // D(block) = 08 08 08 08 08 08 08 08
  const iv = plain.map((byte) => byte ^ 0x08);
  const frame = new Uint8Array(16);
  frame.set(iv, 0);
  frame.set(block, 8);
  return frame;
}
