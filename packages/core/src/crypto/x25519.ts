/**
 * X25519 (RFC 7748) for the Double Ratchet's DH steps, from one of two audited sources:
 *
 * - `webCryptoX25519`: the platform's WebCrypto X25519 (Chrome 133+, Firefox 130+, Safari 17+,
 *   Node 20). Private keys are non-extractable CryptoKeys and new ones come from the platform's
 *   CSPRNG. About ten times faster than pure JavaScript here (0.12 ms against 1.5 ms per DH),
 *   which is what lets a turn change cost well under a millisecond.
 * - `nobleX25519`: @noble/curves, pure JavaScript, with randomness passed in; used where the
 *   platform lacks X25519, and by tests that need every byte to be reproducible.
 *
 * `chooseX25519` picks WebCrypto when it works and @noble/curves otherwise. Both compute the same
 * function (tested against the RFC 7748 vectors and against each other). Every shared secret is
 * checked: a low-order public key, whose output is all zeros, is refused as `bad-point`.
 *
 * The public half of a session's first ratchet key (`publicKeyOf`, `fromSecret`) comes from the
 * Montgomery ladder on the base point, not from @noble/curves' fixed-base tables: building those
 * tables costs about 50 ms in a freshly loaded page, on both sides of every first handshake,
 * against 3 ms for the ladder. `generate` (noble) keeps the tables: it runs at every turn change.
 */
import { x25519 } from '@noble/curves/ed25519.js';
import { concatBytes, equalBytes, wipe } from '../bytes.ts';
import { duetError } from '../errors.ts';

export const X25519_BYTES = 32;

/**
 * The private half: raw bytes (@noble/curves), a non-extractable CryptoKey (WebCrypto), or another
 * platform's key object (Node's `KeyObject`, in the terminal client: packages/cli/src/
 * node-x25519.ts). The ratchet wipes raw bytes when it is done with them, and only ever hands a
 * key object back to the source that made it.
 */
export type DhPrivateKey = Uint8Array | CryptoKey | PlatformPrivateKey;

/** A key object held by the platform's own crypto, outside JavaScript's heap. */
export interface PlatformPrivateKey {
  readonly type: string;
}

export interface DhKeyPair {
  readonly publicKey: Uint8Array;
  readonly privateKey: DhPrivateKey;
}

export interface X25519 {
  readonly name: 'webcrypto' | 'noble' | 'node';
  /** A fresh key pair. */
  generate(): Promise<DhKeyPair>;
  /** The key pair whose private key is `secret` (32 bytes, clamped as RFC 7748 says); wipes it. */
  fromSecret(secret: Uint8Array): Promise<DhKeyPair>;
  /** X25519(own private, theirs). Throws DuetError('bad-point') for a low-order public key. */
  sharedSecret(own: DhKeyPair, theirs: Uint8Array): Promise<Uint8Array>;
}

/** X25519 in pure JavaScript; `random` gives the new private keys. */
export function nobleX25519(random: (length: number) => Uint8Array): X25519 {
  return {
    name: 'noble',
    async generate() {
      return nobleKeyPair(checkedRandom(random));
    },
    async fromSecret(secret) {
      // Stryker disable next-line StringLiteral: equivalent: the name only goes into the DuetError's message, which tests do not assert (STYLE.md, rule 4)
      const copy = checkSize('secret', secret).slice();
      wipe(secret);
      return { publicKey: publicKeyOf(copy), privateKey: copy };
    },
    async sharedSecret(own, theirs) {
      if (!(own.privateKey instanceof Uint8Array)) throw duetError('bad-input', 'not a noble private key');
      // Stryker disable next-line StringLiteral: equivalent: the name only goes into the DuetError's message, which tests do not assert (STYLE.md, rule 4)
      checkSize('public key', theirs);
      let shared: Uint8Array;
      try {
        shared = x25519.getSharedSecret(own.privateKey, theirs);
      } catch (cause) {
        throw duetError('bad-point', 'X25519 public key of low order', cause);
      }
      return checkShared(shared);
    },
  };
}

/** RFC 8410 PKCS #8 prefix of an X25519 private key: the raw 32 bytes follow. */
const PKCS8_X25519 = Uint8Array.of(
  0x30,
  0x2e,
  0x02,
  0x01,
  0x00,
  0x30,
  0x05,
  0x06,
  0x03,
  0x2b,
  0x65,
  0x6e,
  0x04,
  0x22,
  0x04,
  0x20,
);
const ALGORITHM = { name: 'X25519' } as const;

/** X25519 through WebCrypto; throws on first use where the platform lacks it (see chooseX25519). */
export function webCryptoX25519(): X25519 {
  const subtle = globalThis.crypto.subtle;
  // A DH step uses the partner's new public key twice (receiving half, then sending half):
  // imported once. Public keys are not secret.
  let peer: { raw: Uint8Array; key: CryptoKey } | undefined;
  const importPeer = async (raw: Uint8Array): Promise<CryptoKey> => {
    if (peer && equalBytes(peer.raw, raw)) return peer.key;
    // Stryker disable next-line MethodExpression,BooleanLiteral: equivalent: WebCrypto copies its input (slice() only gives TypeScript an ArrayBuffer), and a public key may be exported or not
    const key = await subtle.importKey('raw', raw.slice(), ALGORITHM, false, []);
    peer = { raw: raw.slice(), key };
    return key;
  };
  return {
    name: 'webcrypto',
    async generate() {
      const pair = (await subtle.generateKey(ALGORITHM, false, ['deriveBits'])) as CryptoKeyPair;
      return {
        publicKey: new Uint8Array(await subtle.exportKey('raw', pair.publicKey)),
        privateKey: pair.privateKey,
      };
    },
    async fromSecret(secret) {
      // Stryker disable next-line StringLiteral: equivalent: the name only goes into the DuetError's message, which tests do not assert (STYLE.md, rule 4)
      const raw = checkSize('secret', secret).slice();
      wipe(secret);
      const pkcs8 = concatBytes(PKCS8_X25519, raw);
      try {
        // WebCrypto cannot give the public half of a private key it imported, so it comes from
        // @noble/curves: the same function, once per session.
        const publicKey = publicKeyOf(raw);
        const privateKey = await subtle.importKey('pkcs8', pkcs8, ALGORITHM, false, ['deriveBits']);
        return { publicKey, privateKey };
      } finally {
        wipe(raw);
        wipe(pkcs8);
      }
    },
    async sharedSecret(own, theirs) {
      if (!(own.privateKey instanceof CryptoKey)) throw duetError('bad-input', 'not a WebCrypto private key');
      // Stryker disable next-line StringLiteral: equivalent: the name only goes into the DuetError's message, which tests do not assert (STYLE.md, rule 4)
      const publicKey = await importPeer(checkSize('public key', theirs));
      let bits: ArrayBuffer;
      try {
        bits = await subtle.deriveBits({ name: 'X25519', public: publicKey }, own.privateKey, 256);
      } catch (cause) {
        throw duetError('bad-point', 'X25519 public key of low order', cause);
      }
      return checkShared(new Uint8Array(bits));
    },
  };
}

/**
 * WebCrypto's X25519 when the platform has it (tried once, by generating one key pair), else
 * @noble/curves with `random`.
 */
export async function chooseX25519(random: (length: number) => Uint8Array): Promise<X25519> {
  return (await platformHasX25519()) ? webCryptoX25519() : nobleX25519(random);
}

/** Whether WebCrypto does X25519 here: asked once per page, the answer cannot change. */
let platformX25519: Promise<boolean> | undefined;
function platformHasX25519(): Promise<boolean> {
  platformX25519 ??= webCryptoX25519()
    .generate()
    .then(
      () => true,
      // Stryker disable next-line ArrowFunction: equivalent: the answer is only tested for truth, and undefined is falsy too
      () => false,
    );
  return platformX25519;
}

/** RFC 7748's base point, u = 9. */
const BASE_U = Uint8Array.of(9, ...new Uint8Array(31));

/**
 * The public half of a raw private key (the initiator's first ratchet key, derived from the ISK):
 * X25519(secret, 9) by the ladder, which needs no table built first (see the top of this file).
 */
export function publicKeyOf(secret: Uint8Array): Uint8Array {
  // Stryker disable next-line StringLiteral: equivalent: the name only goes into the DuetError's message, which tests do not assert (STYLE.md, rule 4)
  return x25519.scalarMult(checkSize('secret', secret), BASE_U);
}

function nobleKeyPair(secret: Uint8Array): DhKeyPair {
  return { publicKey: x25519.getPublicKey(secret), privateKey: secret };
}

function checkedRandom(random: (length: number) => Uint8Array): Uint8Array {
  const bytes = random(X25519_BYTES);
  if (!(bytes instanceof Uint8Array) || bytes.length !== X25519_BYTES) {
    throw duetError('bad-input', 'random must return the requested number of bytes');
  }
  return bytes;
}

/** Throws DuetError('bad-input') unless `bytes` is a Uint8Array of 32 bytes; returns it. */
export function checkSize(name: string, bytes: Uint8Array): Uint8Array {
  if (!(bytes instanceof Uint8Array) || bytes.length !== X25519_BYTES) {
    throw duetError('bad-input', `${name} must be ${X25519_BYTES} bytes`);
  }
  return bytes;
}

/** RFC 7748 §6.1: an all-zero output means a low-order point; refuse it whatever the source. */
export function checkShared(shared: Uint8Array): Uint8Array {
  if (shared.every((byte) => byte === 0)) throw duetError('bad-point', 'X25519 output is all zeros');
  return shared;
}
