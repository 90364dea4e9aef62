/**
 * crypto/frame-mac.ts: the frame MAC computed natively for large frames gives exactly the bytes
 * of modern-keys.ts's `frameMac`, on either side of the threshold, and keeps no copy of the key.
 */
import fc from 'fast-check';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { toHex } from '../src/bytes.ts';
import { frameMacMatches, frameMacOf, NATIVE_MAC_MIN_BYTES } from '../src/crypto/frame-mac.ts';
import { frameMac } from '../src/crypto/modern-keys.ts';

const key = new Uint8Array(32).map((_, i) => i + 1);
const header = new Uint8Array(43).fill(0x10);

afterEach(() => vi.restoreAllMocks());

describe('frame MAC, native for large frames', () => {
  it('gives the bytes of frameMac at every size around the threshold and up to the largest frame', async () => {
    for (const total of [
      43,
      NATIVE_MAC_MIN_BYTES - 1,
      NATIVE_MAC_MIN_BYTES,
      NATIVE_MAC_MIN_BYTES + 1,
      61_499,
    ]) {
      const ciphertext = new Uint8Array(total - header.length).map((_, i) => i * 13);
      const mac = await frameMacOf(key, header, ciphertext);
      expect(mac.length).toBe(16);
      expect(mac.buffer.byteLength).toBe(16);
      expect(toHex(mac)).toBe(toHex(frameMac(key, header, ciphertext)));
      expect(await frameMacMatches(key, header, ciphertext, mac)).toBe(true);
      // The same MAC from the ciphertext in parts, as sealed.
      const cut = Math.floor(ciphertext.length / 3);
      const parts = [ciphertext.subarray(0, cut), ciphertext.subarray(cut)];
      expect(toHex(await frameMacOf(key, header, parts))).toBe(toHex(mac));
    }
  });

  it('any flipped bit of key, header, ciphertext or MAC fails the check', async () => {
    const ciphertext = new Uint8Array(8192).fill(7);
    const mac = await frameMacOf(key, header, ciphertext);
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('key', 'header', 'ciphertext', 'mac'),
        fc.nat(),
        async (part, seed) => {
          const parts = {
            key: key.slice(),
            header: header.slice(),
            ciphertext: ciphertext.slice(),
            mac: mac.slice(),
          };
          const target = parts[part];
          const bit = seed % (target.length * 8);
          target[bit >> 3]! ^= 1 << (bit & 7);
          expect(await frameMacMatches(parts.key, parts.header, parts.ciphertext, parts.mac)).toBe(false);
        },
      ),
      { numRuns: 40 },
    );
  });

  it('refuses a header key that is not 32 bytes, large frame or small', async () => {
    const large = new Uint8Array(NATIVE_MAC_MIN_BYTES);
    for (const ciphertext of [large, new Uint8Array(10)]) {
      await expect(frameMacOf(new Uint8Array(31), header, ciphertext)).rejects.toMatchObject({
        code: 'bad-input',
      });
    }
    await expect(frameMacOf('k' as unknown as Uint8Array, header, large)).rejects.toMatchObject({
      code: 'bad-input',
    });
  });

  it('imports a copy of the key for signing only, non-extractable, and wipes the copy; the key itself stays', async () => {
    const importKey = vi.spyOn(globalThis.crypto.subtle, 'importKey');
    const own = key.slice();
    await frameMacOf(own, header, new Uint8Array(NATIVE_MAC_MIN_BYTES));
    expect(importKey).toHaveBeenCalledTimes(1);
    const [format, raw, algorithm, extractable, usages] = importKey.mock.calls[0]!;
    expect([format, algorithm, extractable, usages]).toEqual([
      'raw',
      { name: 'HMAC', hash: 'SHA-256' },
      false,
      ['sign'],
    ]);
    expect(raw).not.toBe(own);
    expect([...(raw as Uint8Array)]).toEqual(new Array(32).fill(0));
    expect(own).toEqual(key);
  });
});
