/**
 * X25519 from both sources (crypto/x25519.ts): RFC 7748's vectors, agreement with each other on
 * random keys, the refusal of low-order public keys and of bad input (which changes nothing),
 * WebCrypto's private keys staying inside it, the cache of the partner's public key, and the
 * choice of a source where the platform lacks X25519.
 */
import fc from 'fast-check';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { fromHex, toHex } from '../src/bytes.ts';
import {
  chooseX25519,
  nobleX25519,
  publicKeyOf,
  webCryptoX25519,
  type X25519,
} from '../src/crypto/x25519.ts';
import { seededRandom } from './ratchet-pair.ts';

// RFC 7748 §6.1.
const ALICE_PRIVATE = '77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a';
const ALICE_PUBLIC = '8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a';
const BOB_PRIVATE = '5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb';
const BOB_PUBLIC = 'de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f';
const SHARED = '4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742';
// RFC 7748 §5.2, first vector (scalar, u-coordinate, output).
const SCALAR = 'a546e36bf0527c9d3b16154b82465edd62144c0ac1fc5a18506a2244ba449ac4';
const U = 'e6db6867583030db3594c1a424b15f7c726624ec26b3353b10a903a6d0ab1c4c';
const OUTPUT = 'c3da55379de9c6908e94ea4df28d084f32eccf03491c71f754b4075577a28552';

const sources: [string, () => X25519][] = [
  ['@noble/curves', () => nobleX25519(seededRandom('x25519'))],
  ['WebCrypto', () => webCryptoX25519()],
];

describe.each(sources)('X25519 from %s', (_name, make) => {
  it('reproduces RFC 7748 §6.1: both public keys and the shared secret', async () => {
    const x = make();
    const alice = await x.fromSecret(fromHex(ALICE_PRIVATE));
    const bob = await x.fromSecret(fromHex(BOB_PRIVATE));
    expect(toHex(alice.publicKey)).toBe(ALICE_PUBLIC);
    expect(toHex(bob.publicKey)).toBe(BOB_PUBLIC);
    expect(toHex(await x.sharedSecret(alice, bob.publicKey))).toBe(SHARED);
    expect(toHex(await x.sharedSecret(bob, alice.publicKey))).toBe(SHARED);
  });

  it('reproduces RFC 7748 §5.2 (scalar times a u-coordinate)', async () => {
    const x = make();
    expect(toHex(await x.sharedSecret(await x.fromSecret(fromHex(SCALAR)), fromHex(U)))).toBe(OUTPUT);
  });

  it('wipes the secret it is given, and generates distinct key pairs', async () => {
    const x = make();
    const secret = fromHex(ALICE_PRIVATE);
    await x.fromSecret(secret);
    expect(secret.every((b) => b === 0)).toBe(true);
    const one = await x.generate();
    const two = await x.generate();
    expect(toHex(one.publicKey)).not.toBe(toHex(two.publicKey));
    expect(toHex(await x.sharedSecret(one, two.publicKey))).toBe(
      toHex(await x.sharedSecret(two, one.publicKey)),
    );
  });

  it.each([
    ['u = 0', '00'.repeat(32)],
    ['u = 1', '01' + '00'.repeat(31)],
    ['u = p − 1', 'ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f'],
  ])('refuses a low-order public key (%s) as bad-point', async (_label, hex) => {
    const x = make();
    const own = await x.generate();
    await expect(x.sharedSecret(own, fromHex(hex))).rejects.toEqual(
      expect.objectContaining({ code: 'bad-point' }),
    );
  });

  it('checks sizes, and a refused secret is left as it was', async () => {
    const x = make();
    const badInput = expect.objectContaining({ code: 'bad-input' });
    const short = new Uint8Array(31).fill(9);
    await expect(x.fromSecret(short)).rejects.toEqual(badInput);
    expect(short.every((b) => b === 9)).toBe(true);
    await expect(x.fromSecret(new Uint8Array(33))).rejects.toEqual(badInput);
    await expect(x.fromSecret([...fromHex(ALICE_PRIVATE)] as unknown as Uint8Array)).rejects.toEqual(
      badInput,
    );
    await expect(x.sharedSecret(await x.generate(), new Uint8Array(33))).rejects.toEqual(badInput);
    await expect(x.sharedSecret(await x.generate(), new Uint8Array(31))).rejects.toEqual(badInput);
  });
});

describe('X25519 sources agree', () => {
  it('the same private key gives the same public key and shared secrets from both', async () => {
    const noble = nobleX25519(seededRandom('agree'));
    const web = webCryptoX25519();
    await fc.assert(
      fc.asyncProperty(
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        async (secret, peerSecret) => {
          const peer = publicKeyOf(peerSecret);
          const a = await noble.fromSecret(secret.slice());
          const b = await web.fromSecret(secret.slice());
          expect(toHex(a.publicKey)).toBe(toHex(b.publicKey));
          expect(toHex(await noble.sharedSecret(a, peer))).toBe(toHex(await web.sharedSecret(b, peer)));
        },
      ),
      { numRuns: 20 },
    );
  });

  it('a key pair of one source is refused by the other', async () => {
    const noble = nobleX25519(seededRandom('mix'));
    const web = webCryptoX25519();
    const badInput = expect.objectContaining({ code: 'bad-input' });
    await expect(web.sharedSecret(await noble.generate(), fromHex(BOB_PUBLIC))).rejects.toEqual(badInput);
    await expect(noble.sharedSecret(await web.generate(), fromHex(BOB_PUBLIC))).rejects.toEqual(badInput);
  });

  it('chooses WebCrypto where the platform has X25519', async () => {
    expect((await chooseX25519(seededRandom('choose'))).name).toBe('webcrypto');
  });
});

describe('X25519 from @noble/curves', () => {
  it('is named noble', () => {
    expect(nobleX25519(seededRandom('name')).name).toBe('noble');
  });

  it.each([
    ['too few bytes', () => new Uint8Array(31)],
    ['too many bytes', () => new Uint8Array(33)],
    ['not a Uint8Array', () => Array.from({ length: 32 }, () => 7) as unknown as Uint8Array],
  ])('refuses a random function that gives %s, as bad-input', async (_label, random) => {
    await expect(nobleX25519(random).generate()).rejects.toEqual(
      expect.objectContaining({ code: 'bad-input' }),
    );
  });

  it('asks random for exactly one private key of 32 bytes', async () => {
    const random = vi.fn(seededRandom('asked'));
    const pair = await nobleX25519(random).generate();
    expect(random.mock.calls).toEqual([[32]]);
    expect(toHex(pair.publicKey)).toBe(toHex(publicKeyOf(random.mock.results[0]?.value as Uint8Array)));
  });

  it('publicKeyOf checks the size of the secret, and leaves it as it was', () => {
    const secret = fromHex(ALICE_PRIVATE);
    expect(toHex(publicKeyOf(secret))).toBe(ALICE_PUBLIC);
    expect(toHex(secret)).toBe(ALICE_PRIVATE);
    expect(() => publicKeyOf(new Uint8Array(31))).toThrow(expect.objectContaining({ code: 'bad-input' }));
  });
});

describe('X25519 from WebCrypto', () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it('is named webcrypto', () => {
    expect(webCryptoX25519().name).toBe('webcrypto');
  });

  it('keeps private keys inside WebCrypto: not extractable, from generate and from fromSecret', async () => {
    const x = webCryptoX25519();
    for (const pair of [await x.generate(), await x.fromSecret(fromHex(ALICE_PRIVATE))]) {
      const privateKey = pair.privateKey as CryptoKey;
      expect(privateKey.extractable).toBe(false);
      expect(privateKey.usages).toEqual(['deriveBits']);
      await expect(crypto.subtle.exportKey('pkcs8', privateKey)).rejects.toThrow();
    }
  });

  it('fromSecret wipes the PKCS #8 copy of the secret it hands to WebCrypto', async () => {
    const importKey = vi.spyOn(crypto.subtle, 'importKey');
    await webCryptoX25519().fromSecret(fromHex(ALICE_PRIVATE));
    const [format, pkcs8] = importKey.mock.calls[0] ?? [];
    expect(format).toBe('pkcs8');
    expect((pkcs8 as Uint8Array).length).toBe(48);
    expect((pkcs8 as Uint8Array).every((b) => b === 0)).toBe(true);
  });

  it('fromSecret wipes the secret and its copies when WebCrypto refuses it', async () => {
    const importKey = vi.spyOn(crypto.subtle, 'importKey').mockRejectedValueOnce(new Error('refused'));
    const secret = fromHex(ALICE_PRIVATE);
    await expect(webCryptoX25519().fromSecret(secret)).rejects.toThrow('refused');
    expect(secret.every((b) => b === 0)).toBe(true);
    expect((importKey.mock.calls[0]?.[1] as Uint8Array).every((b) => b === 0)).toBe(true);
  });

  it("imports the partner's public key once for the two DH steps that use it", async () => {
    const x = webCryptoX25519();
    const noble = nobleX25519(seededRandom('cache'));
    const own = await x.fromSecret(fromHex(ALICE_PRIVATE));
    const mine = await noble.fromSecret(fromHex(ALICE_PRIVATE));
    const bob = fromHex(BOB_PUBLIC);
    const other = (await noble.generate()).publicKey;
    const importKey = vi.spyOn(crypto.subtle, 'importKey');
    const imports = () => importKey.mock.calls.filter(([format]) => format === 'raw').length;

    expect(toHex(await x.sharedSecret(own, bob))).toBe(SHARED);
    expect(toHex(await x.sharedSecret(own, fromHex(BOB_PUBLIC)))).toBe(SHARED);
    expect(imports()).toBe(1);
    expect(toHex(await x.sharedSecret(own, other))).toBe(toHex(await noble.sharedSecret(mine, other)));
    expect(imports()).toBe(2);
    expect(toHex(await x.sharedSecret(own, bob))).toBe(SHARED);
    expect(imports()).toBe(3);
    await expect(x.sharedSecret(own, new Uint8Array(31))).rejects.toEqual(
      expect.objectContaining({ code: 'bad-input' }),
    );
    expect(imports()).toBe(3);
  });

  it('keeps its own copy of the cached public key: a caller reusing its buffer gets the right secret', async () => {
    const x = webCryptoX25519();
    const noble = nobleX25519(seededRandom('reuse'));
    const own = await x.fromSecret(fromHex(ALICE_PRIVATE));
    const mine = await noble.fromSecret(fromHex(ALICE_PRIVATE));
    const other = (await noble.generate()).publicKey;
    const buffer = fromHex(BOB_PUBLIC);
    expect(toHex(await x.sharedSecret(own, buffer))).toBe(SHARED);
    buffer.set(other);
    expect(toHex(await x.sharedSecret(own, buffer))).toBe(toHex(await noble.sharedSecret(mine, other)));
  });

  it("keeps the platform's error as the cause of a bad-point", async () => {
    const x = webCryptoX25519();
    await expect(x.sharedSecret(await x.generate(), new Uint8Array(32))).rejects.toEqual(
      expect.objectContaining({ code: 'bad-point', cause: expect.any(Error) }),
    );
  });

  it('refuses an all-zero output as bad-point where the platform returns one instead of failing', async () => {
    const x = webCryptoX25519();
    const own = await x.generate();
    vi.spyOn(crypto.subtle, 'deriveBits').mockResolvedValueOnce(new ArrayBuffer(32));
    await expect(x.sharedSecret(own, fromHex(BOB_PUBLIC))).rejects.toEqual(
      expect.objectContaining({ code: 'bad-point' }),
    );
    const one = new Uint8Array(32);
    one[31] = 1;
    vi.spyOn(crypto.subtle, 'deriveBits').mockResolvedValueOnce(one.buffer);
    expect(toHex(await x.sharedSecret(own, fromHex(BOB_PUBLIC)))).toBe(toHex(one));
  });

  it('chooseX25519 takes @noble/curves where the platform lacks X25519, and asks the platform once', async () => {
    vi.resetModules();
    const generateKey = vi
      .spyOn(crypto.subtle, 'generateKey')
      .mockRejectedValue(new DOMException('Unrecognized algorithm name', 'NotSupportedError'));
    const fresh = await import('../src/crypto/x25519.ts');
    expect((await fresh.chooseX25519(seededRandom('lacking'))).name).toBe('noble');
    expect((await fresh.chooseX25519(seededRandom('lacking'))).name).toBe('noble');
    expect(generateKey).toHaveBeenCalledTimes(1);
  });
});
