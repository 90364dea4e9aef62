/**
 * Test helper: what every X25519 source (crypto/x25519.ts's interface) must do, as a suite any
 * source can run: RFC 7748's vectors, wiping the secret it is given, fresh key pairs, refusing
 * low-order public keys and bad sizes, and agreeing with @noble/curves on random keys. Core runs
 * it for @noble/curves and WebCrypto (x25519.test.ts), the terminal client for node:crypto
 * (packages/cli/test/node-x25519.test.ts).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fromHex, toHex } from '../src/bytes.ts';
import { nobleX25519, publicKeyOf, type X25519 } from '../src/crypto/x25519.ts';
import { seededRandom } from './ratchet-pair.ts';

// RFC 7748 §6.1.
export const ALICE_PRIVATE = '77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a';
export const ALICE_PUBLIC = '8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a';
export const BOB_PRIVATE = '5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb';
export const BOB_PUBLIC = 'de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f';
export const SHARED = '4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742';
// RFC 7748 §5.2, first vector (scalar, u-coordinate, output).
const SCALAR = 'a546e36bf0527c9d3b16154b82465edd62144c0ac1fc5a18506a2244ba449ac4';
const U = 'e6db6867583030db3594c1a424b15f7c726624ec26b3353b10a903a6d0ab1c4c';
const OUTPUT = 'c3da55379de9c6908e94ea4df28d084f32eccf03491c71f754b4075577a28552';

export const badInput = expect.objectContaining({ code: 'bad-input' });

/** The conformance suite for the source `make` builds, named `name` in the report. */
export function describeX25519Source(name: string, make: () => X25519): void {
  describe(`X25519 from ${name}`, () => {
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

    it('agrees with @noble/curves on random keys: the same public key and shared secrets', async () => {
      const x = make();
      const noble = nobleX25519(seededRandom(`agree with ${name}`));
      await fc.assert(
        fc.asyncProperty(
          fc.uint8Array({ minLength: 32, maxLength: 32 }),
          fc.uint8Array({ minLength: 32, maxLength: 32 }),
          async (secret, peerSecret) => {
            const peer = publicKeyOf(peerSecret);
            const mine = await x.fromSecret(secret.slice());
            const reference = await noble.fromSecret(secret.slice());
            expect(toHex(mine.publicKey)).toBe(toHex(reference.publicKey));
            expect(toHex(await x.sharedSecret(mine, peer))).toBe(
              toHex(await noble.sharedSecret(reference, peer)),
            );
          },
        ),
        { numRuns: 20 },
      );
    });
  });
}
