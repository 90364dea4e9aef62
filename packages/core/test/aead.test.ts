import { describe, expect, it } from 'vitest';
import { concatBytes, fromHex, utf8Encode } from '../src/bytes.ts';
import { openOnce, sealOnce } from '../src/crypto/aead.ts';
import { messageHeader } from '../src/crypto/modern-frame.ts';

const subtle = globalThis.crypto.subtle;
const header = (n: number) => messageHeader({ dh: new Uint8Array(32).fill(5), pn: 0, n });

describe('AEAD: AES-256-GCM with a one-time key', () => {
  it('seals with nonce 00000000 ‖ n and the header as associated data; consumes the key', async () => {
    const key = new Uint8Array(32).fill(7);
    const keyCopy = key.slice();
    const ad = header(9);
    const sealed = concatBytes(...(await sealOnce(key, 9, ad, utf8Encode('hello'))));
    expect(key.every((b) => b === 0)).toBe(true);
    const web = await subtle.importKey('raw', keyCopy, 'AES-GCM', false, ['decrypt']);
    const iv = fromHex('000000000000000000000009');
    const plain = await subtle.decrypt(
      { name: 'AES-GCM', iv, additionalData: ad.slice() },
      web,
      sealed.slice(),
    );
    expect(new TextDecoder().decode(plain)).toBe('hello');
  });

  it('refuses a wrong key, n or associated data as tampered', async () => {
    const sealed = concatBytes(
      ...(await sealOnce(new Uint8Array(32).fill(7), 1, header(1), utf8Encode('x'))),
    );
    const tampered = expect.objectContaining({ code: 'tampered' });
    await expect(openOnce(new Uint8Array(32).fill(8), 1, header(1), sealed)).rejects.toEqual(tampered);
    await expect(openOnce(new Uint8Array(32).fill(7), 2, header(1), sealed)).rejects.toEqual(tampered);
    await expect(openOnce(new Uint8Array(32).fill(7), 1, header(2), sealed)).rejects.toEqual(tampered);
    expect(await openOnce(new Uint8Array(32).fill(7), 1, header(1), sealed)).toEqual(utf8Encode('x'));
  });
});
