/**
 * Length-hiding padding for the `modern` suite: the network sees a bucket, not the exact length.
 *
 * Buckets: 32, 64, 128, 256, 512, 1024, 2048, 4096 bytes, then every multiple of 4096, up to
 * MAX_PADDED_BYTES for texts and MAX_DATA_PADDED_BYTES for binary payloads (file transfer).
 * Scheme (ISO/IEC 7816-4, "0x80 then zeros"): the plaintext, one 0x80 byte, then zeros up to the
 * smallest bucket that holds plaintext + 1. Unambiguous: the plaintext ends right before the
 * last non-zero byte, which must be 0x80. Unpadding runs only on authenticated plaintext, so its
 * timing and errors are no padding oracle.
 */
import { partsLength, partsOf } from '../bytes.ts';
import { duetError } from '../errors.ts';

/** The largest message text, in UTF-8 bytes (16 KiB). */
export const MAX_TEXT_BYTES = 16 * 1024;
export const MIN_PADDED_BYTES = 32;
const PAGE_BYTES = 4096;
/** The buckets up to a page, each twice the one before; above it, every multiple of a page. */
const SMALL_BUCKETS = [MIN_PADDED_BYTES, 64, 128, 256, 512, 1024, 2048, PAGE_BYTES];
/** The bucket that holds MAX_TEXT_BYTES + 1: 20 KiB. */
export const MAX_PADDED_BYTES = paddedLength(MAX_TEXT_BYTES + 1);
/**
 * The largest padded binary payload: 60 KiB, so that a frame (header, body, tag) stays well
 * inside the relay's default MAX_FRAME_BYTES (64 KiB) with room for a longer header.
 */
export const MAX_DATA_PADDED_BYTES = 60 * 1024;
/** The largest binary payload, in bytes: one less than its bucket, for the 0x80 marker. */
export const MAX_DATA_BYTES = MAX_DATA_PADDED_BYTES - 1;

/** The bucket for `length` bytes (plaintext + the 0x80 marker). */
export function paddedLength(length: number): number {
  return SMALL_BUCKETS.find((bucket) => bucket >= length) ?? Math.ceil(length / PAGE_BYTES) * PAGE_BYTES;
}

/** True if `length` is a bucket size that padding can produce, up to `maxPadded`. */
export function isPaddedLength(length: number, maxPadded = MAX_PADDED_BYTES): boolean {
  return (
    length <= maxPadded &&
    paddedLength(length) === length &&
    // Implied by the line above (every bucket is a whole number from 32 up; NaN equals nothing),
    // and kept in case paddedLength ever changes.
    // Stryker disable next-line ConditionalExpression: equivalent: implied by paddedLength(length) === length
    length >= MIN_PADDED_BYTES &&
    Number.isInteger(length)
  );
}

/**
 * Pads `plaintext` (UTF-8 text, or a binary payload with `maxBytes` = MAX_DATA_BYTES), given
 * whole or in parts (padded as their concatenation, copied once); throws DuetError('bad-input')
 * above `maxBytes`. With `into` (large enough for the bucket), the result is a view of it, its
 * padding zeroed, instead of a new array.
 */
export function pad(
  plaintext: Uint8Array | readonly Uint8Array[],
  maxBytes = MAX_TEXT_BYTES,
  into?: Uint8Array,
): Uint8Array {
  const parts = partsOf(plaintext);
  const length = partsLength(parts);
  if (length > maxBytes) throw duetError('bad-input', `plaintext longer than ${maxBytes} bytes`);
  const bucket = paddedLength(length + 1);
  const out =
    into && into.length >= bucket ? into.subarray(0, bucket).fill(0, length) : new Uint8Array(bucket);
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  out[length] = 0x80;
  return out;
}

/** Removes the padding; throws DuetError('bad-frame') if `padded` was not made by `pad` with `maxBytes`. */
export function unpad(padded: Uint8Array, maxBytes = MAX_TEXT_BYTES): Uint8Array {
  // The plaintext ends right before the last non-zero byte. All zeros: the scan stops at -1,
  // where padded[-1] is undefined, which is no marker either.
  let end = padded.length - 1;
  while (padded[end] === 0) end--;
  if (padded[end] !== 0x80) throw duetError('bad-frame', 'padding has no 0x80 marker');
  // A sender always picks the smallest bucket that holds the plaintext, and the plaintext is at
  // most `maxBytes`: anything else, a length that is no bucket at all included, was not made by `pad`.
  if (end > maxBytes || paddedLength(end + 1) !== padded.length)
    throw duetError('bad-frame', 'padding is not canonical');
  return padded.subarray(0, end);
}
