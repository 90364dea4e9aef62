/**
 * A received file's name made safe to save: the sender chose it, so it may try to climb out of
 * a folder (`../../.bashrc`), hide (`.profile`), smuggle control or bidirectional-override
 * characters (`invoice‮fdp.exe`), or use names some systems reserve (`CON`). Used for the
 * browser's `download` attribute and by the Node client before it writes to disk. The name
 * shown to the user is the original, rendered as text.
 */
import { utf8Encode } from '../bytes.ts';

/** Bytes of UTF-8 kept at most (most file systems allow 255). */
export const MAX_SAFE_NAME_BYTES = 200;
const FALLBACK = 'file';
/** Windows' reserved device names, with or without an extension. */
const RESERVED = /^(con|prn|aux|nul|com[0-9]|lpt[0-9])(\..*)?$/i;
/** Path separators, characters Windows forbids, C0/C1 controls, and bidi and invisible format characters. */
const UNSAFE = /[/\\:*?"<>|\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/gu;

export function safeFileName(name: string): string {
  let safe = name
    .normalize('NFC')
    .replace(UNSAFE, '_')
    .replace(/^[\s.]+/, '') // no hidden files, no `..`
    .replace(/[\s.]+$/, ''); // Windows drops trailing dots and spaces
  if (RESERVED.test(safe)) safe = `_${safe}`;
  safe = truncateUtf8(safe, MAX_SAFE_NAME_BYTES);
  return safe === '' ? FALLBACK : safe;
}

/** Cuts `text` to at most `max` UTF-8 bytes, keeping the extension and whole characters. */
function truncateUtf8(text: string, max: number): string {
  // Stryker disable next-line ConditionalExpression,EqualityOperator: an early exit; the loop below also keeps a name that fits
  if (utf8Encode(text).length <= max) return text;
  const dot = text.lastIndexOf('.');
  // Stryker disable next-line EqualityOperator: dot is never 0 (safeFileName strips leading dots), so `>= 0` is the same test
  const extension = dot > 0 && text.length - dot <= 16 ? text.slice(dot) : '';
  let stem = [...text.slice(0, text.length - extension.length)];
  while (stem.length > 0 && utf8Encode(stem.join('') + extension).length > max) stem = stem.slice(0, -1);
  return stem.join('') + extension;
}
