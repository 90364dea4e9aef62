/**
 * The public half of a session's first ratchet key comes from the Montgomery ladder, never from
 * @noble/curves' fixed-base path, whose tables take about 50 ms to build in a freshly loaded page,
 * on both sides of the first handshake (crypto/x25519.ts). The fixed-base path is made to throw
 * here (in a file of its own, as vi.mock holds for a whole file); the results must still be
 * RFC 7748's.
 */
import { describe, expect, it, vi } from 'vitest';
import { fromHex, toHex } from '../src/bytes.ts';
import { nobleX25519, publicKeyOf, webCryptoX25519 } from '../src/crypto/x25519.ts';
import { seededRandom } from './ratchet-pair.ts';

vi.mock('@noble/curves/ed25519.js', async (importOriginal) => {
  const original = await importOriginal<typeof import('@noble/curves/ed25519.js')>();
  const fixedBase = (): never => {
    throw new Error('the fixed-base tables were used');
  };
  return {
    ...original,
    x25519: { ...original.x25519, getPublicKey: fixedBase, scalarMultBase: fixedBase },
  };
});

// RFC 7748 §6.1.
const ALICE_PRIVATE = '77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a';
const ALICE_PUBLIC = '8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a';

describe('X25519 public keys of a session start, by the ladder', () => {
  it('publicKeyOf', () => {
    expect(toHex(publicKeyOf(fromHex(ALICE_PRIVATE)))).toBe(ALICE_PUBLIC);
  });

  it.each([
    ['@noble/curves', () => nobleX25519(seededRandom('ladder'))],
    ['WebCrypto', () => webCryptoX25519()],
  ])('fromSecret with %s', async (_name, make) => {
    expect(toHex((await make().fromSecret(fromHex(ALICE_PRIVATE))).publicKey)).toBe(ALICE_PUBLIC);
  });
});
