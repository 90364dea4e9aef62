/**
 * Length-hiding padding for the `modern` suite: the network sees a bucket, not the exact length.
 *
 * Buckets: 32, 64, 128, 256, 512, 1024, 2048, 4096 bytes, then every multiple of 4096 up to
 * MAX_PADDED_BYTES. Scheme (ISO/IEC 7816-4, "0x80 then zeros"): the UTF-8 text, one 0x80 byte,
 * then zeros up to the smallest bucket that holds text + 1. Unambiguous: the text ends right
 * before the last non-zero byte, which must be 0x80. Unpadding runs only on authenticated
 * plaintext, so its timing and errors are no padding oracle.
 */
import { duetError } from '../errors.ts';

/** The largest message text, in UTF-8 bytes (16 KiB). */
export const MAX_TEXT_BYTES = 16 * 1024;
export const MIN_PADDED_BYTES = 32;
const PAGE_BYTES = 4096;
/** The buckets up to a page, each twice the one before; above it, every multiple of a page. */
const SMALL_BUCKETS = [MIN_PADDED_BYTES, 64, 128, 256, 512, 1024, 2048, PAGE_BYTES];
/** The bucket that holds MAX_TEXT_BYTES + 1: 20 KiB. */
export const MAX_PADDED_BYTES = paddedLength(MAX_TEXT_BYTES + 1);

/** The bucket for `length` bytes (text + the 0x80 marker). */
export function paddedLength(length: number): number {
  return SMALL_BUCKETS.find((bucket) => bucket >= length) ?? Math.ceil(length / PAGE_BYTES) * PAGE_BYTES;
}

/** True if `length` is a bucket size that padding can produce. */
export function isPaddedLength(length: number): boolean {
  return (
    length <= MAX_PADDED_BYTES &&
    paddedLength(length) === length &&
    // Implied by the line above (every bucket is a whole number from 32 up; NaN equals nothing),
    // and kept in case paddedLength ever changes.
    // Stryker disable next-line ConditionalExpression: equivalent: implied by paddedLength(length) === length
    length >= MIN_PADDED_BYTES &&
    Number.isInteger(length)
  );
}

/** Pads `text` (UTF-8 bytes); throws DuetError('bad-input') above MAX_TEXT_BYTES. */
export function pad(text: Uint8Array): Uint8Array {
  if (text.length > MAX_TEXT_BYTES)
    throw duetError('bad-input', `message longer than ${MAX_TEXT_BYTES} bytes`);
  const out = new Uint8Array(paddedLength(text.length + 1));
  out.set(text);
  out[text.length] = 0x80;
  return out;
}

/** Removes the padding; throws DuetError('bad-frame') if `padded` was not made by `pad`. */
export function unpad(padded: Uint8Array): Uint8Array {
  // The text ends right before the last non-zero byte. All zeros: the scan stops at -1, where
  // padded[-1] is undefined, which is no marker either.
  let end = padded.length - 1;
  while (padded[end] === 0) end--;
  if (padded[end] !== 0x80) throw duetError('bad-frame', 'padding has no 0x80 marker');
  // A sender always picks the smallest bucket that holds the text, and the text is at most
  // MAX_TEXT_BYTES: anything else, a length that is no bucket at all included, was not made by `pad`.
  if (end > MAX_TEXT_BYTES || paddedLength(end + 1) !== padded.length)
    throw duetError('bad-frame', 'padding is not canonical');
  return padded.subarray(0, end);
}
