/**
 * node-x25519.ts: the terminal client's X25519 by `node:crypto` reproduces RFC 7748, agrees with
 * @noble/curves on random keys, refuses low-order points and bad input as core's sources do,
 * wipes the secrets it is given, and a channel using it talks to a channel using WebCrypto
 * across many turn changes.
 */
import fc from 'fast-check';
import { KeyObject } from 'node:crypto';
import { describe, expect, it, vi } from 'vitest';
import { fromHex, toHex } from '@duet/core/bytes';
import { nobleX25519, publicKeyOf, webCryptoX25519 } from '@duet/core/crypto/x25519';
import { createChannel } from '@duet/core/session/suites';
import { nodeFrameCrypto } from '../src/node-frame-crypto.ts';
import { nodeX25519 } from '../src/node-x25519.ts';
import { frameOf, MemoryRelay } from '../../core/test/modern-pair.ts';
import { seededRandom } from '../../core/test/ratchet-pair.ts';

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

const badInput = expect.objectContaining({ code: 'bad-input' });

/** What node-x25519.ts hands to createPrivateKey (the PKCS #8 DER of a secret), as given. */
const imported = vi.hoisted(() => [] as Uint8Array[]);
vi.mock('node:crypto', async (importOriginal) => {
  const real = await importOriginal<typeof import('node:crypto')>();
  return {
    ...real,
    createPrivateKey: (input: Parameters<typeof real.createPrivateKey>[0]) => {
      const key = (input as { key?: unknown }).key;
      if (key instanceof Uint8Array) imported.push(key);
      return real.createPrivateKey(input);
    },
  };
});

describe('X25519 by node:crypto', () => {
  it('is named node, and reproduces RFC 7748 §6.1: both public keys and the shared secret', async () => {
    const x = nodeX25519();
    expect(x.name).toBe('node');
    const alice = await x.fromSecret(fromHex(ALICE_PRIVATE));
    const bob = await x.fromSecret(fromHex(BOB_PRIVATE));
    expect(toHex(alice.publicKey)).toBe(ALICE_PUBLIC);
    expect(toHex(bob.publicKey)).toBe(BOB_PUBLIC);
    expect(toHex(await x.sharedSecret(alice, bob.publicKey))).toBe(SHARED);
    expect(toHex(await x.sharedSecret(bob, alice.publicKey))).toBe(SHARED);
  });

  it('reproduces RFC 7748 §5.2 (scalar times a u-coordinate)', async () => {
    const x = nodeX25519();
    expect(toHex(await x.sharedSecret(await x.fromSecret(fromHex(SCALAR)), fromHex(U)))).toBe(OUTPUT);
  });

  it('keeps private keys in node:crypto key objects, and generates distinct key pairs', async () => {
    const x = nodeX25519();
    const one = await x.generate();
    const two = await x.generate();
    for (const pair of [one, two, await x.fromSecret(fromHex(ALICE_PRIVATE))]) {
      expect(pair.privateKey).toBeInstanceOf(KeyObject);
      expect((pair.privateKey as KeyObject).asymmetricKeyType).toBe('x25519');
      expect(pair.publicKey).toHaveLength(32);
    }
    expect(toHex(one.publicKey)).not.toBe(toHex(two.publicKey));
    expect(toHex(await x.sharedSecret(one, two.publicKey))).toBe(
      toHex(await x.sharedSecret(two, one.publicKey)),
    );
  });

  it('fromSecret wipes the secret and the PKCS #8 copy it hands to node:crypto', async () => {
    imported.length = 0;
    const secret = fromHex(ALICE_PRIVATE);
    await nodeX25519().fromSecret(secret);
    expect(secret.every((b) => b === 0)).toBe(true);
    expect(imported).toHaveLength(1);
    expect(imported[0]).toHaveLength(48);
    expect(imported[0]!.every((b) => b === 0)).toBe(true);
  });

  it.each([
    ['u = 0', '00'.repeat(32)],
    ['u = 1', '01' + '00'.repeat(31)],
    ['u = p − 1', 'ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f'],
  ])('refuses a low-order public key (%s) as bad-point', async (_label, hex) => {
    const x = nodeX25519();
    await expect(x.sharedSecret(await x.generate(), fromHex(hex))).rejects.toEqual(
      expect.objectContaining({ code: 'bad-point' }),
    );
  });

  it('checks sizes, and a refused secret is left as it was', async () => {
    const x = nodeX25519();
    const short = new Uint8Array(31).fill(9);
    await expect(x.fromSecret(short)).rejects.toEqual(badInput);
    expect(short.every((b) => b === 9)).toBe(true);
    await expect(x.fromSecret(new Uint8Array(33))).rejects.toEqual(badInput);
    await expect(x.sharedSecret(await x.generate(), new Uint8Array(33))).rejects.toEqual(badInput);
    await expect(x.sharedSecret(await x.generate(), new Uint8Array(31))).rejects.toEqual(badInput);
  });

  it("refuses another source's private key, and its own is refused by the others", async () => {
    const x = nodeX25519();
    const noble = nobleX25519(seededRandom('node-mix'));
    const web = webCryptoX25519();
    const bob = fromHex(BOB_PUBLIC);
    await expect(x.sharedSecret(await noble.generate(), bob)).rejects.toEqual(badInput);
    await expect(x.sharedSecret(await web.generate(), bob)).rejects.toEqual(badInput);
    await expect(noble.sharedSecret(await x.generate(), bob)).rejects.toEqual(badInput);
    await expect(web.sharedSecret(await x.generate(), bob)).rejects.toEqual(badInput);
    const { privateKey } = await import('node:crypto').then((c) => c.generateKeyPairSync('ed25519'));
    await expect(x.sharedSecret({ publicKey: bob, privateKey }, bob)).rejects.toEqual(badInput);
  });

  it('agrees with @noble/curves on random keys (public keys and shared secrets)', async () => {
    const x = nodeX25519();
    const noble = nobleX25519(seededRandom('node-agree'));
    await fc.assert(
      fc.asyncProperty(
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        async (secret, peerSecret) => {
          const peer = publicKeyOf(peerSecret);
          const a = await x.fromSecret(secret.slice());
          const b = await noble.fromSecret(secret.slice());
          expect(toHex(a.publicKey)).toBe(toHex(b.publicKey));
          expect(toHex(await x.sharedSecret(a, peer))).toBe(toHex(await noble.sharedSecret(b, peer)));
        },
      ),
      { numRuns: 30 },
    );
  });

  it("uses each new partner key, not the last one imported (the partner's key cache)", async () => {
    const x = nodeX25519();
    const noble = nobleX25519(seededRandom('node-cache'));
    const own = await x.fromSecret(fromHex(ALICE_PRIVATE));
    const mine = await noble.fromSecret(fromHex(ALICE_PRIVATE));
    const other = (await noble.generate()).publicKey;
    const bob = fromHex(BOB_PUBLIC);
    expect(toHex(await x.sharedSecret(own, bob))).toBe(SHARED);
    expect(toHex(await x.sharedSecret(own, bob))).toBe(SHARED);
    expect(toHex(await x.sharedSecret(own, other))).toBe(toHex(await noble.sharedSecret(mine, other)));
    expect(toHex(await x.sharedSecret(own, bob))).toBe(SHARED);
  });

  it('a channel on node:crypto and a channel on WebCrypto keep talking across turn changes', async () => {
    const settings = { suite: 'modern', room: 'node-x25519', passphrase: 'pw', saltHex: '' } as const;
    const x = nodeX25519();
    const sharedSecret = vi.fn(x.sharedSecret);
    const relay = new MemoryRelay(
      await createChannel({ ...settings, frames: nodeFrameCrypto, x25519: { ...x, sharedSecret } }),
      await createChannel(settings),
    );
    await relay.start();
    expect(relay.isReady('a') && relay.isReady('b')).toBe(true);
    // Every reply is a turn change: a DH step on each side, node:crypto's against WebCrypto's.
    for (let turn = 0; turn < 6; turn++) {
      const [from, to] = turn % 2 === 0 ? (['a', 'b'] as const) : (['b', 'a'] as const);
      const text = `turn ${turn}`;
      const frame = frameOf(await relay.channel(from).send(text));
      expect(await relay.inject(to, frame)).toContainEqual({ type: 'message', text });
    }
    expect(sharedSecret).toHaveBeenCalled(); // the channel took the X25519 it was given
  });
});
