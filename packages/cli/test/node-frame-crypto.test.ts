/**
 * node-frame-crypto.ts: the terminal client's AES-GCM and HMAC by `node:crypto` give the same
 * bytes as WebCrypto's (core's crypto/frame-crypto.ts), refuse what WebCrypto refuses without
 * releasing plaintext, and a channel using them talks to a channel using WebCrypto.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { concatBytes, fromHex, toHex, utf8Encode } from '@duet/core/bytes';
import { webCryptoFrames } from '@duet/core/crypto/frame-crypto';
import { createChannel } from '@duet/core/session/suites';
import { nodeFrameCrypto } from '../src/node-frame-crypto.ts';
import { frameOf, MemoryRelay } from '../../core/test/modern-pair.ts';

/** The GCM specification's test case 16 (AES-256, 96-bit IV, associated data). */
const GCM_CASE_16 = {
  key: 'feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308',
  nonce: 'cafebabefacedbaddecaf888',
  associatedData: 'feedfacedeadbeeffeedfacedeadbeefabaddad2',
  plaintext:
    'd9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a721c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39',
  sealed:
    '522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662' +
    '76fc6ece0f4e1768cddf8853bb2d551b',
};

const bytes = (min: number, max: number) => fc.uint8Array({ minLength: min, maxLength: max });

describe('frame crypto by node:crypto', () => {
  it('gives the GCM test case 16 and RFC 4231 case 2', async () => {
    const { key, nonce, associatedData, plaintext, sealed } = GCM_CASE_16;
    const out = await nodeFrameCrypto.seal(
      fromHex(key),
      fromHex(nonce),
      fromHex(associatedData),
      fromHex(plaintext),
    );
    expect(out).toHaveLength(2); // ciphertext and tag, not joined
    expect(toHex(concatBytes(...out))).toBe(sealed);
    const back = await nodeFrameCrypto.open(
      fromHex(key),
      fromHex(nonce),
      fromHex(associatedData),
      fromHex(sealed),
    );
    expect(toHex(back!)).toBe(plaintext);
    const mac = await nodeFrameCrypto.hmacSha256(utf8Encode('Jefe'), [
      utf8Encode('what do ya want '),
      utf8Encode('for nothing?'),
    ]);
    expect(toHex(mac)).toBe('5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843');
  });

  it('seals, opens and MACs exactly as WebCrypto does, each opening the other', async () => {
    await fc.assert(
      fc.asyncProperty(
        bytes(32, 32),
        bytes(12, 12),
        bytes(0, 80),
        bytes(0, 3000),
        fc.array(bytes(0, 500), { maxLength: 4 }),
        async (key, nonce, associatedData, plaintext, parts) => {
          const [node, web] = (
            await Promise.all([
              nodeFrameCrypto.seal(key.slice(), nonce.slice(), associatedData, plaintext),
              webCryptoFrames.seal(key.slice(), nonce.slice(), associatedData, plaintext),
            ])
          ).map((parts) => concatBytes(...parts)) as [Uint8Array, Uint8Array];
          expect(toHex(node)).toBe(toHex(web));
          expect(await nodeFrameCrypto.open(key.slice(), nonce.slice(), associatedData, web)).toEqual(
            plaintext,
          );
          expect(await webCryptoFrames.open(key.slice(), nonce.slice(), associatedData, node)).toEqual(
            plaintext,
          );
          expect(toHex(await nodeFrameCrypto.hmacSha256(key.slice(), parts))).toBe(
            toHex(await webCryptoFrames.hmacSha256(key.slice(), parts)),
          );
        },
      ),
      { numRuns: 60 },
    );
  });

  it('refuses any flipped bit, and anything shorter than a tag, where WebCrypto does', async () => {
    const { key, nonce, associatedData, sealed } = GCM_CASE_16;
    await fc.assert(
      fc.asyncProperty(fc.nat({ max: (sealed.length / 2) * 8 - 1 }), async (bit) => {
        const bad = fromHex(sealed);
        bad[bit >> 3]! ^= 1 << (bit & 7);
        expect(await nodeFrameCrypto.open(fromHex(key), fromHex(nonce), fromHex(associatedData), bad)).toBe(
          undefined,
        );
      }),
      { numRuns: 40 },
    );
    for (const length of [0, 15]) {
      const short = new Uint8Array(length);
      expect(await nodeFrameCrypto.open(fromHex(key), fromHex(nonce), new Uint8Array(0), short)).toBe(
        undefined,
      );
      expect(await webCryptoFrames.open(fromHex(key), fromHex(nonce), new Uint8Array(0), short)).toBe(
        undefined,
      );
    }
  });

  it('a channel on node:crypto and a channel on WebCrypto exchange file-sized frames both ways', async () => {
    const settings = { suite: 'modern', room: 'node-frames', passphrase: 'pw', saltHex: '' } as const;
    const relay = new MemoryRelay(
      await createChannel({ ...settings, frames: nodeFrameCrypto }),
      await createChannel(settings),
    );
    await relay.start();
    expect(relay.isReady('a') && relay.isReady('b')).toBe(true);
    const chunk = new Uint8Array(61_000).map((_, i) => (i * 7) % 256);
    expect(await relay.inject('b', frameOf(await relay.a.send(chunk)))).toContainEqual({
      type: 'data',
      bytes: chunk,
    });
    expect(await relay.inject('a', frameOf(await relay.b.send(chunk)))).toContainEqual({
      type: 'data',
      bytes: chunk,
    });
  });
});
