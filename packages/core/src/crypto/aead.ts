/**
 * AES-256-GCM through WebCrypto for the `modern` suite's message frames.
 *
 * Every message key encrypts exactly one message (crypto/modern-keys.ts), so a (key, nonce) pair
 * can never repeat whatever the nonce. The nonce is still not constant: it is 4 zero bytes ‖ the
 * 8-byte big-endian sequence number, derived here and never sent, so that even a ratchet bug
 * that reused a key would not reuse a nonce within one direction. The sequence number is also in
 * the associated data (the frame header), authenticated by the tag.
 *
 * Keys are imported non-extractable with a single usage, and the raw bytes are wiped at once:
 * each function consumes its key.
 */
import { wipe } from '../bytes.ts';
import { duetError } from '../errors.ts';

export const AEAD_KEY_BYTES = 32;
export const AEAD_NONCE_BYTES = 12;

/** Encrypts `plaintext` under a one-time key (wiped); returns ciphertext ‖ 16-byte tag. */
export async function sealOnce(
  key: Uint8Array,
  seq: number,
  associatedData: Uint8Array,
  plaintext: Uint8Array,
): Promise<Uint8Array> {
  const cryptoKey = await importOnce(key, 'encrypt');
  // Stryker disable next-line MethodExpression: equivalent: WebCrypto copies its inputs; slice() only gives TypeScript an ArrayBuffer
  const params = { name: 'AES-GCM', iv: nonceFor(seq), additionalData: associatedData.slice() };
  // Stryker disable next-line MethodExpression: equivalent: as above
  return new Uint8Array(await globalThis.crypto.subtle.encrypt(params, cryptoKey, plaintext.slice()));
}

/**
 * Decrypts under a one-time key (wiped). Throws DuetError('tampered') if the tag does not verify;
 * WebCrypto checks the tag before releasing any plaintext.
 */
export async function openOnce(
  key: Uint8Array,
  seq: number,
  associatedData: Uint8Array,
  ciphertext: Uint8Array,
): Promise<Uint8Array> {
  const cryptoKey = await importOnce(key, 'decrypt');
  // Stryker disable next-line MethodExpression: equivalent: WebCrypto copies its inputs; slice() only gives TypeScript an ArrayBuffer
  const params = { name: 'AES-GCM', iv: nonceFor(seq), additionalData: associatedData.slice() };
  try {
    // Stryker disable next-line MethodExpression: equivalent: as above
    return new Uint8Array(await globalThis.crypto.subtle.decrypt(params, cryptoKey, ciphertext.slice()));
  } catch (cause) {
    throw duetError('tampered', 'message frame failed authentication', cause);
  }
}

async function importOnce(key: Uint8Array, usage: 'encrypt' | 'decrypt'): Promise<CryptoKey> {
  if (!(key instanceof Uint8Array) || key.length !== AEAD_KEY_BYTES) {
    throw duetError('bad-input', `key must be ${AEAD_KEY_BYTES} bytes`);
  }
  const raw = key.slice();
  wipe(key);
  try {
    return await globalThis.crypto.subtle.importKey('raw', raw, 'AES-GCM', false, [usage]);
  } finally {
    wipe(raw);
  }
}

function nonceFor(seq: number): Uint8Array<ArrayBuffer> {
  if (!Number.isSafeInteger(seq) || seq < 0) throw duetError('bad-input', 'seq must be a safe integer ≥ 0');
  const nonce = new Uint8Array(AEAD_NONCE_BYTES);
  new DataView(nonce.buffer).setBigUint64(4, BigInt(seq));
  return nonce;
}
