/**
 * X25519 from both sources (crypto/x25519.ts): the conformance suite every source runs
 * (x25519-conformance.ts: RFC 7748's vectors, agreement with @noble/curves, the refusal of
 * low-order public keys and of bad input), then WebCrypto's private keys staying inside it, the
 * cache of the partner's public key, and the choice of a source where the platform lacks X25519.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { fromHex, toHex } from '../src/bytes.ts';
import { chooseX25519, nobleX25519, publicKeyOf, webCryptoX25519 } from '../src/crypto/x25519.ts';
import { seededRandom } from './ratchet-pair.ts';
import {
  ALICE_PRIVATE,
  ALICE_PUBLIC,
  badInput,
  BOB_PUBLIC,
  describeX25519Source,
  SHARED,
} from './x25519-conformance.ts';

describeX25519Source('@noble/curves', () => nobleX25519(seededRandom('x25519')));
describeX25519Source('WebCrypto', () => webCryptoX25519());

describe('X25519 sources together', () => {
  it('a key pair of one source is refused by the other', async () => {
    const noble = nobleX25519(seededRandom('mix'));
    const web = webCryptoX25519();
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
