/**
 * X25519 for the Double Ratchet's DH steps by Node's own `node:crypto`, for the terminal client:
 * the same OpenSSL that backs Node's WebCrypto, called synchronously. A turn change (a new key
 * pair and two DH outputs) costs about 0.2 ms this way against about 0.6 through WebCrypto,
 * whose every call is a job on the thread pool and a CryptoKey built around the result; during a
 * file transfer every acknowledgement is a turn change on both sides (docs/benchmarks.md,
 * workload h). Same function, same bytes: core's crypto/x25519.ts is the interface, and
 * node-x25519.test.ts checks RFC 7748's vectors and agreement with @noble/curves.
 *
 * Private keys are Node `KeyObject`s: held by OpenSSL outside JavaScript's heap, as WebCrypto's
 * CryptoKeys are in a browser. New ones come from OpenSSL's CSPRNG. A secret given to
 * `fromSecret` (once per session) goes in as PKCS #8 DER, and both copies are wiped. Public keys
 * go in as JWK, the fastest import Node has (a DER import goes through OpenSSL's decoders, about
 * ten times slower); they are not secret.
 *
 * Public keys come out as DER (SubjectPublicKeyInfo), never as JWK. Node 20's JWK export of an
 * X25519 key holds the key's mutex while it allocates the result; if that allocation collects
 * the garbage of the `generateKeyPairSync` that made the key, the collector destroys the
 * generation job, which takes the same mutex, and the thread waits on itself forever. A
 * terminal client hung that way mid-transfer (docs/benchmarks.md, workload h; a loop of
 * generate-and-export hangs within about 10,000 turns with 1 MB semi-spaces). Asking the
 * generation for DER gives the public key with no second export at all.
 */
import {
  createPrivateKey,
  createPublicKey,
  diffieHellman,
  generateKeyPairSync,
  KeyObject,
} from 'node:crypto';
import { concatBytes, equalBytes, wipe } from '@duet/core/bytes';
import { duetError } from '@duet/core/errors';
import { checkShared, checkSize, type X25519 } from '@duet/core/crypto/x25519';

/** The DER prefix of a PKCS #8 X25519 private key (RFC 8410): the 32 secret bytes follow. */
const PKCS8_X25519 = Buffer.from('302e020100300506032b656e04220420', 'hex');
/** The DER prefix of an X25519 SubjectPublicKeyInfo (RFC 8410): the 32 public bytes follow. */
const SPKI_X25519 = Buffer.from('302a300506032b656e032100', 'hex');
const SPKI_DER = { format: 'der', type: 'spki' } as const;

/**
 * `generateKeyPairSync` asked to encode the public key only: Node then returns the private key
 * as a KeyObject, a case @types/node does not type (it has both parts encoded, or neither).
 */
const generateWithDerPublicKey = generateKeyPairSync as unknown as (
  type: 'x25519',
  options: { publicKeyEncoding: typeof SPKI_DER },
) => { privateKey: KeyObject; publicKey: Buffer };

/** The 32 raw bytes of an X25519 public key given as SubjectPublicKeyInfo DER. */
function rawPublicKey(spki: Buffer): Uint8Array {
  if (spki.length !== SPKI_X25519.length + 32 || !spki.subarray(0, SPKI_X25519.length).equals(SPKI_X25519))
    throw duetError('bad-input', 'not an X25519 public key');
  return new Uint8Array(spki.subarray(SPKI_X25519.length));
}

export function nodeX25519(): X25519 {
  // A DH step uses the partner's new public key twice (receiving half, then sending half):
  // imported once, as in core's WebCrypto source.
  let peer: { raw: Uint8Array; key: KeyObject } | undefined;
  const importPeer = (raw: Uint8Array): KeyObject => {
    if (peer && equalBytes(peer.raw, raw)) return peer.key;
    const key = createPublicKey({
      key: { kty: 'OKP', crv: 'X25519', x: Buffer.from(raw).toString('base64url') },
      format: 'jwk',
    });
    peer = { raw: raw.slice(), key };
    return key;
  };
  return {
    name: 'node',
    async generate() {
      const { privateKey, publicKey } = generateWithDerPublicKey('x25519', { publicKeyEncoding: SPKI_DER });
      return { publicKey: rawPublicKey(publicKey), privateKey };
    },
    async fromSecret(secret) {
      const raw = checkSize('secret', secret).slice();
      wipe(secret);
      const pkcs8 = concatBytes(PKCS8_X25519, raw);
      try {
        const privateKey = createPrivateKey({ key: Buffer.from(pkcs8.buffer), format: 'der', type: 'pkcs8' });
        return { publicKey: rawPublicKey(createPublicKey(privateKey).export(SPKI_DER)), privateKey };
      } finally {
        wipe(raw);
        wipe(pkcs8);
      }
    },
    async sharedSecret(own, theirs) {
      const privateKey = own.privateKey;
      if (!(privateKey instanceof KeyObject) || privateKey.asymmetricKeyType !== 'x25519')
        throw duetError('bad-input', 'not a node:crypto X25519 private key');
      const publicKey = importPeer(checkSize('public key', theirs));
      let shared: Buffer;
      try {
        shared = diffieHellman({ privateKey, publicKey });
      } catch (cause) {
        // OpenSSL refuses an all-zero output itself (a low-order point).
        throw duetError('bad-point', 'X25519 public key of low order', cause);
      }
      return checkShared(new Uint8Array(shared.buffer, shared.byteOffset, shared.length));
    },
  };
}
