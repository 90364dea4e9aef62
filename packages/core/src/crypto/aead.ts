/**
 * AES-256-GCM for the `modern` suite's message frames, by WebCrypto unless a caller passes
 * another implementation of the same function (crypto/frame-crypto.ts).
 *
 * Every message key encrypts exactly one message (crypto/modern-keys.ts), so a (key, nonce) pair
 * can never repeat whatever the nonce. The nonce is still not constant: it is 4 zero bytes ‖ the
 * 8-byte big-endian sequence number, derived here and never sent, so that even a ratchet bug
 * that reused a key would not reuse a nonce within one direction. The sequence number is also in
 * the associated data (the frame header), authenticated by the tag.
 *
 * Each function consumes its key: the caller's bytes are wiped at once, and the copy handed to
 * the implementation once it is done with it.
 */
import { wipe } from '../bytes.ts';
import { duetError } from '../errors.ts';
import { webCryptoFrames, type FrameCrypto } from './frame-crypto.ts';

export const AEAD_KEY_BYTES = 32;
export const AEAD_NONCE_BYTES = 12;

/**
 * Encrypts `plaintext` under a one-time key (wiped); returns ciphertext ‖ 16-byte tag, in parts
 * whose concatenation it is (crypto/frame-crypto.ts).
 */
export async function sealOnce(
  key: Uint8Array,
  seq: number,
  associatedData: Uint8Array,
  plaintext: Uint8Array,
  frames: FrameCrypto = webCryptoFrames,
): Promise<Uint8Array[]> {
  const raw = takeKey(key);
  try {
    return await frames.seal(raw, nonceFor(seq), associatedData, plaintext);
  } finally {
    wipe(raw);
  }
}

/**
 * Decrypts under a one-time key (wiped). Throws DuetError('tampered') if the tag does not verify;
 * no implementation releases plaintext before its tag is checked.
 */
export async function openOnce(
  key: Uint8Array,
  seq: number,
  associatedData: Uint8Array,
  ciphertext: Uint8Array,
  frames: FrameCrypto = webCryptoFrames,
): Promise<Uint8Array> {
  const raw = takeKey(key);
  try {
    const opened = await frames.open(raw, nonceFor(seq), associatedData, ciphertext);
    if (opened === undefined) throw duetError('tampered', 'message frame failed authentication');
    return opened;
  } finally {
    wipe(raw);
  }
}

/** A copy of the key for the implementation, the caller's bytes wiped. */
function takeKey(key: Uint8Array): Uint8Array<ArrayBuffer> {
  if (!(key instanceof Uint8Array) || key.length !== AEAD_KEY_BYTES) {
    throw duetError('bad-input', `key must be ${AEAD_KEY_BYTES} bytes`);
  }
  const raw = key.slice();
  wipe(key);
  return raw;
}

function nonceFor(seq: number): Uint8Array<ArrayBuffer> {
  if (!Number.isSafeInteger(seq) || seq < 0) throw duetError('bad-input', 'seq must be a safe integer ≥ 0');
  const nonce = new Uint8Array(AEAD_NONCE_BYTES);
  new DataView(nonce.buffer).setBigUint64(4, BigInt(seq));
  return nonce;
}
