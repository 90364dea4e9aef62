/**
 * The `des` suite: the original design's scheme, byte for byte. WEAK BY DESIGN — kept only
 * for compatibility with the seed (shared/seed/p2p-messaging-design.txt).
 *
 *   key   = PBKDF2-HMAC-SHA256(passphrase UTF-8, salt, 10,000 iterations, 8 bytes)
 *   frame = IV (8 random bytes) ‖ DES-CBC(key, IV, PKCS#7(plaintext UTF-8))
 *
 * What it does NOT give: a 56-bit key (brute-forceable), no integrity (a flipped IV bit flips
 * the same plaintext bit, silently), no replay protection, and one recorded frame lets anyone,
 * the relay included, test passphrase guesses offline. docs/security.md says more.
 *
 * Inside this file a bad frame raises a precise code (for tests); callers that face the user
 * or the network must collapse them all into `decrypt-failed` (see `isDesDecryptError`), so
 * that nothing observable distinguishes bad padding from other failures (no padding oracle).
 */
import CryptoJS from 'crypto-js/core';
import 'crypto-js/tripledes';
import 'crypto-js/pad-nopadding';
import { utf8DecodeStrict, utf8Encode, concatBytes, randomBytes } from '../bytes.ts';
import { duetError, type DuetError } from '../errors.ts';

export const DES_BLOCK_BYTES = 8;
export const DES_KEY_BYTES = 8;
export const DES_PBKDF2_ITERATIONS = 10_000;

const DES_DECRYPT_CODES = new Set([
  'des-too-short',
  'des-not-block-aligned',
  'des-bad-padding',
  'des-not-utf8',
]);

/** True for every error `desDecrypt` can raise: all of them mean `decrypt-failed` to the user. */
export function isDesDecryptError(error: unknown): error is DuetError {
  return error instanceof Error && DES_DECRYPT_CODES.has((error as DuetError).code);
}

/** key = PBKDF2-HMAC-SHA256(passphrase, salt, 10,000, 8 bytes), through WebCrypto. */
export async function deriveDesKey(passphrase: string, salt: Uint8Array): Promise<Uint8Array> {
  const subtle = globalThis.crypto.subtle;
  const material = await subtle.importKey('raw', utf8Encode(passphrase), 'PBKDF2', false, ['deriveBits']);
  const bits = await subtle.deriveBits(
    // Stryker disable next-line MethodExpression: equivalent: WebCrypto copies its inputs; slice() only gives TypeScript an ArrayBuffer
    { name: 'PBKDF2', hash: 'SHA-256', salt: salt.slice(), iterations: DES_PBKDF2_ITERATIONS },
    material,
    DES_KEY_BYTES * 8,
  );
  return new Uint8Array(bits);
}

/**
 * The default salt of a room: the first 16 bytes of SHA-256("duet/des-salt/" ‖ room code).
 * Both people derive the same salt from the room code, so nobody has to share one.
 */
export async function roomSalt(room: string): Promise<Uint8Array> {
  const digest = await globalThis.crypto.subtle.digest('SHA-256', utf8Encode(`duet/des-salt/${room}`));
  return new Uint8Array(digest).slice(0, 16);
}

/** Encrypts one message. `iv` is for test vectors only; leave it out to get a fresh random one. */
export function desEncrypt(key: Uint8Array, plaintext: string, iv: Uint8Array = randomBytes(8)): Uint8Array {
  checkLength('key', key, DES_KEY_BYTES);
  checkLength('iv', iv, DES_BLOCK_BYTES);
  const padded = pkcs7Pad(utf8Encode(plaintext));
  const encrypted = CryptoJS.DES.encrypt(toWordArray(padded), toWordArray(key), {
    iv: toWordArray(iv),
    mode: CryptoJS.mode.CBC,
    padding: CryptoJS.pad.NoPadding,
  });
  return concatBytes(iv, fromWordArray(encrypted.ciphertext));
}

/** Decrypts one frame; throws `des-too-short`, `des-not-block-aligned`, `des-bad-padding` or `des-not-utf8`. */
export function desDecrypt(key: Uint8Array, frame: Uint8Array): string {
  checkLength('key', key, DES_KEY_BYTES);
  // The seed's own check: an IV and at least one block of ciphertext.
  if (frame.length < 2 * DES_BLOCK_BYTES)
    throw duetError('des-too-short', 'frame shorter than IV + one block');
  if (frame.length % DES_BLOCK_BYTES !== 0)
    throw duetError('des-not-block-aligned', 'ciphertext not block-aligned');
  const iv = frame.subarray(0, DES_BLOCK_BYTES);
  const ciphertext = frame.subarray(DES_BLOCK_BYTES);
  const decrypted = CryptoJS.DES.decrypt(
    CryptoJS.lib.CipherParams.create({ ciphertext: toWordArray(ciphertext) }),
    toWordArray(key),
    { iv: toWordArray(iv), mode: CryptoJS.mode.CBC, padding: CryptoJS.pad.NoPadding },
  );
  const plain = pkcs7Unpad(fromWordArray(decrypted));
  try {
    return utf8DecodeStrict(plain);
  } catch (cause) {
    throw duetError('des-not-utf8', 'plaintext is not UTF-8', cause);
  }
}

function pkcs7Pad(bytes: Uint8Array): Uint8Array {
  const count = DES_BLOCK_BYTES - (bytes.length % DES_BLOCK_BYTES);
  return concatBytes(bytes, new Uint8Array(count).fill(count));
}

/** Strict PKCS#7 (RFC 5652 §6.3): 1..8 bytes, all equal to their count. */
function pkcs7Unpad(bytes: Uint8Array): Uint8Array {
  const count = bytes[bytes.length - 1] ?? 0;
  let bad = count < 1 || count > DES_BLOCK_BYTES ? 1 : 0;
  for (let i = 1; i <= DES_BLOCK_BYTES; i++) {
    if (i <= count && bytes[bytes.length - i] !== count) bad = 1;
  }
  if (bad) throw duetError('des-bad-padding', 'padding is incorrect');
  return bytes.subarray(0, bytes.length - count);
}

function checkLength(name: string, bytes: Uint8Array, length: number): void {
  if (!(bytes instanceof Uint8Array) || bytes.length !== length) {
    throw duetError('bad-input', `${name} must be ${length} bytes`);
  }
}

type WordArray = CryptoJS.lib.WordArray;

function toWordArray(bytes: Uint8Array): WordArray {
  // Stryker disable next-line ArrayDeclaration: equivalent: every word is overwritten with (old | byte), and a string | number is the number
  const words: number[] = [];
  for (let i = 0; i < bytes.length; i++) {
    words[i >>> 2] = (words[i >>> 2] ?? 0) | ((bytes[i] ?? 0) << (24 - (i % 4) * 8));
  }
  return CryptoJS.lib.WordArray.create(words, bytes.length);
}

function fromWordArray(array: WordArray): Uint8Array {
  const out = new Uint8Array(array.sigBytes);
  for (let i = 0; i < out.length; i++) out[i] = ((array.words[i >>> 2] ?? 0) >>> (24 - (i % 4) * 8)) & 0xff;
  return out;
}
