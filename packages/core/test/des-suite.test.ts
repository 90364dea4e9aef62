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
import { isDuetError } from '../src/errors.ts';

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
  });

  it('every rejection is one of the codes that the app collapses into decrypt-failed', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (frame) => {
        try {
          desDecrypt(key, frame);
        } catch (error) {
          expect(isDesDecryptError(error)).toBe(true);
          expect(isDuetError(error)).toBe(true);
        }
      }),
      { numRuns: 300 },
    );
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
