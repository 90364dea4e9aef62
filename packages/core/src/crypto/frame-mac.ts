/**
 * The frame MAC of crypto/modern-keys.ts (`frameMac`: HMAC-SHA-256 under the chain's header key,
 * over header ‖ ciphertext, first 16 bytes), computed where it is fastest. The bytes are the same
 * either way, so this is invisible on the wire and to the known-answer tests:
 * - a large frame (a file chunk) goes to a native HMAC (crypto/frame-crypto.ts: WebCrypto, or
 *   `node:crypto` in the terminal client), about ten times faster than @noble/hashes on 60 KiB
 *   (docs/benchmarks.md, workload h);
 * - a small frame (a text, a receipt) stays with @noble/hashes: the hop to WebCrypto costs more
 *   than hashing a few hundred bytes.
 * As in crypto/aead.ts, the implementation gets a copy of the key, wiped once it is done.
 */
import { concatBytes, equalBytes, partsLength, partsOf, wipe } from '../bytes.ts';
import { webCryptoFrames, type FrameCrypto } from './frame-crypto.ts';
import { FRAME_MAC_BYTES, frameMac, KEY_BYTES } from './modern-keys.ts';
import { duetError } from '../errors.ts';

/** Header and ciphertext of at least this many bytes are MACed natively. */
export const NATIVE_MAC_MIN_BYTES = 4096;

/** `frameMac`, natively for a large frame; the ciphertext may come in parts (as sealed). */
export async function frameMacOf(
  headerKey: Uint8Array,
  header: Uint8Array,
  ciphertext: Uint8Array | readonly Uint8Array[],
  frames: FrameCrypto = webCryptoFrames,
): Promise<Uint8Array> {
  const parts = partsOf(ciphertext);
  const length = partsLength(parts);
  // Stryker disable next-line ConditionalExpression,EqualityOperator,ArithmeticOperator: which implementation runs is invisible in the bytes (frame-mac.test.ts compares them at every size); only the speed differs
  if (header.length + length < NATIVE_MAC_MIN_BYTES)
    return frameMac(headerKey, header, concatBytes(...parts));
  if (!(headerKey instanceof Uint8Array) || headerKey.length !== KEY_BYTES)
    throw duetError('bad-input', `header key must be ${KEY_BYTES} bytes`);
  const raw = headerKey.slice();
  try {
    const tag = await frames.hmacSha256(raw, [header, ...parts]);
    return tag.slice(0, FRAME_MAC_BYTES);
  } finally {
    wipe(raw);
  }
}

/** Checks a frame MAC in constant time (`frameMacValid`), natively for a large frame. */
export async function frameMacMatches(
  headerKey: Uint8Array,
  header: Uint8Array,
  ciphertext: Uint8Array,
  mac: Uint8Array,
  frames: FrameCrypto = webCryptoFrames,
): Promise<boolean> {
  return equalBytes(await frameMacOf(headerKey, header, ciphertext, frames), mac);
}
