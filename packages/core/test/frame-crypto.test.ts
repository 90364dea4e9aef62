/**
 * crypto/frame-crypto.ts, the seam under the frames' AES-GCM and HMAC: WebCrypto's implementation
 * gives the published answers, and every caller (aead.ts, frame-mac.ts, the Double Ratchet, the
 * `modern` channel, `createChannel`) hands its work to the implementation it was given, with a
 * copy of the key that it wipes once the call settles, whatever the outcome.
 * The terminal client's `node:crypto` implementation is checked against the same answers in
 * packages/cli/test/node-frame-crypto.test.ts.
 */
import { describe, expect, it, vi } from 'vitest';
import { concatBytes, fromHex, toHex, utf8Encode } from '../src/bytes.ts';
import { openOnce, sealOnce } from '../src/crypto/aead.ts';
import { webCryptoFrames, type FrameCrypto } from '../src/crypto/frame-crypto.ts';
import { frameMacOf, NATIVE_MAC_MIN_BYTES } from '../src/crypto/frame-mac.ts';
import { messageHeader } from '../src/crypto/modern-frame.ts';
import { frameMac } from '../src/crypto/modern-keys.ts';
import { createChannel } from '../src/session/suites.ts';
import { frameOf, MemoryRelay } from './modern-pair.ts';

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

const isZero = (bytes: Uint8Array) => bytes.every((b) => b === 0);

/** A FrameCrypto that records what it was given and then does what WebCrypto does (or fails). */
function recording(fail = false) {
  const calls: { op: string; key: Uint8Array; keyAtCall: string; rest: Uint8Array[] }[] = [];
  const record = (op: string, key: Uint8Array, rest: Uint8Array[]) => {
    calls.push({ op, key, keyAtCall: toHex(key), rest: rest.map((part) => part.slice()) });
    if (fail) throw new Error('refused');
  };
  const frames: FrameCrypto = {
    async seal(key, nonce, associatedData, plaintext) {
      record('seal', key, [nonce, associatedData, plaintext]);
      return webCryptoFrames.seal(key, nonce, associatedData, plaintext);
    },
    async open(key, nonce, associatedData, sealed) {
      record('open', key, [nonce, associatedData, sealed]);
      return webCryptoFrames.open(key, nonce, associatedData, sealed);
    },
    async hmacSha256(key, parts) {
      record('hmac', key, [...parts]);
      return webCryptoFrames.hmacSha256(key, parts);
    },
  };
  return { frames, calls };
}

describe('frame crypto: WebCrypto', () => {
  it('gives the GCM test case 16 and RFC 4231 case 2', async () => {
    const { key, nonce, associatedData, plaintext, sealed } = GCM_CASE_16;
    const out = await webCryptoFrames.seal(
      fromHex(key),
      fromHex(nonce),
      fromHex(associatedData),
      fromHex(plaintext),
    );
    expect(toHex(concatBytes(...out))).toBe(sealed);
    const back = await webCryptoFrames.open(
      fromHex(key),
      fromHex(nonce),
      fromHex(associatedData),
      fromHex(sealed),
    );
    expect(toHex(back!)).toBe(plaintext);
    const mac = await webCryptoFrames.hmacSha256(utf8Encode('Jefe'), [
      utf8Encode('what do ya want '),
      utf8Encode('for nothing?'),
    ]);
    expect(toHex(mac)).toBe('5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843');
  });

  it('refuses a flipped bit of the sealed bytes', async () => {
    const { key, nonce, associatedData, sealed } = GCM_CASE_16;
    const bad = fromHex(sealed);
    bad[bad.length - 1]! ^= 1;
    expect(await webCryptoFrames.open(fromHex(key), fromHex(nonce), fromHex(associatedData), bad)).toBe(
      undefined,
    );
  });

  it('rejects, rather than answering "not authentic", when WebCrypto cannot run', async () => {
    const { key, nonce, associatedData, sealed } = GCM_CASE_16;
    const decrypt = vi
      .spyOn(crypto.subtle, 'decrypt')
      .mockRejectedValueOnce(new TypeError('no AES-GCM'))
      .mockRejectedValueOnce(new DOMException('not here', 'NotSupportedError'));
    try {
      for (const message of ['no AES-GCM', 'not here']) {
        await expect(
          webCryptoFrames.open(fromHex(key), fromHex(nonce), fromHex(associatedData), fromHex(sealed)),
        ).rejects.toThrow(message);
      }
    } finally {
      decrypt.mockRestore();
    }
  });
});

describe('frame crypto: the callers use the implementation they are given', () => {
  it('sealOnce and openOnce: the nonce is 0⁴ ‖ seq, the header the associated data; a copy of the key, wiped after', async () => {
    const { frames, calls } = recording();
    const key = new Uint8Array(32).fill(7);
    const header = messageHeader({ dh: new Uint8Array(32).fill(5), pn: 0, n: 300 });
    const sealed = concatBytes(...(await sealOnce(key, 300, header, utf8Encode('hi'), frames)));
    expect(isZero(key)).toBe(true);
    const opened = await openOnce(new Uint8Array(32).fill(7), 300, header, sealed, frames);
    expect(opened).toEqual(utf8Encode('hi'));
    expect(calls.map((call) => call.op)).toEqual(['seal', 'open']);
    for (const call of calls) {
      expect(call.keyAtCall).toBe('07'.repeat(32));
      expect(isZero(call.key)).toBe(true);
      expect(toHex(call.rest[0]!)).toBe('00000000000000000000012c');
      expect(call.rest[1]).toEqual(header);
    }
    expect(calls[0]!.rest[2]).toEqual(utf8Encode('hi'));
    expect(calls[1]!.rest[2]).toEqual(sealed);
  });

  it('"not authentic" from the implementation is tampered; a failure to run is passed on, not taken for a forgery; the key copy is wiped either way', async () => {
    const { frames, calls } = recording();
    await expect(
      openOnce(new Uint8Array(32).fill(1), 1, new Uint8Array(8), new Uint8Array(40), frames),
    ).rejects.toMatchObject({ code: 'tampered' });
    const failing = recording(true);
    await expect(
      openOnce(new Uint8Array(32).fill(1), 1, new Uint8Array(8), new Uint8Array(40), failing.frames),
    ).rejects.toThrow('refused');
    await expect(
      sealOnce(new Uint8Array(32).fill(1), 1, new Uint8Array(8), new Uint8Array(4), failing.frames),
    ).rejects.toThrow('refused');
    for (const call of [...calls, ...failing.calls]) expect(isZero(call.key)).toBe(true);
    expect(calls).toHaveLength(1);
    expect(failing.calls).toHaveLength(2);
  });

  it('a bad key or sequence number never reaches the implementation', async () => {
    const { frames, calls } = recording();
    await expect(
      sealOnce(new Uint8Array(31), 1, new Uint8Array(8), new Uint8Array(4), frames),
    ).rejects.toMatchObject({
      code: 'bad-input',
    });
    await expect(
      openOnce(new Uint8Array(32), -1, new Uint8Array(8), new Uint8Array(40), frames),
    ).rejects.toMatchObject({
      code: 'bad-input',
    });
    expect(calls).toEqual([]);
  });

  it('frameMacOf: a large frame goes to the implementation as [header, ciphertext], a small one does not', async () => {
    const { frames, calls } = recording();
    const key = new Uint8Array(32).map((_, i) => i);
    const header = new Uint8Array(43).fill(3);
    const large = new Uint8Array(NATIVE_MAC_MIN_BYTES).fill(9);
    const mac = await frameMacOf(key, header, large, frames);
    expect(toHex(mac)).toBe(toHex(frameMac(key, header, large)));
    expect(calls).toHaveLength(1);
    expect(calls[0]!.rest).toEqual([header, large]);
    expect(calls[0]!.keyAtCall).toBe(toHex(key));
    expect(isZero(calls[0]!.key)).toBe(true);
    expect(key[1]).toBe(1);
    await frameMacOf(key, header, new Uint8Array(10), frames);
    expect(calls).toHaveLength(1);
  });

  it('a modern channel made by createChannel seals and opens its frames with the given implementation', async () => {
    const a = recording();
    const b = recording();
    const settings = { suite: 'modern', room: 'frames-room', passphrase: 'pw', saltHex: '' } as const;
    const relay = new MemoryRelay(
      await createChannel({ ...settings, frames: a.frames }),
      await createChannel({ ...settings, frames: b.frames }),
    );
    await relay.start();
    expect(relay.isReady('a') && relay.isReady('b')).toBe(true);
    const chunk = new Uint8Array(50_000).map((_, i) => i % 251);
    const effects = await relay.inject('b', frameOf(await relay.a.send(chunk)));
    expect(effects).toContainEqual({ type: 'data', bytes: chunk });
    expect(a.calls.map((call) => call.op)).toContain('seal');
    expect(a.calls.map((call) => call.op)).toContain('hmac');
    expect(b.calls.map((call) => call.op)).toContain('open');
    expect(b.calls.map((call) => call.op)).toContain('hmac');
  });
});
