/**
 * Word passphrases and safety-code words, from the BIP-39 English list (2,048 words, each told
 * apart by its first four letters; via @scure/bip39). Kept out of codes.ts so that the app can
 * load the list only when someone needs it.
 */
import { wordlist } from '@scure/bip39/wordlists/english.js';
import { randomBytes } from '../bytes.ts';
import { duetError } from '../errors.ts';
import { BITS_PER_WORD, type SafetyCode } from '../crypto/safety-code.ts';

export const WORDLIST: readonly string[] = wordlist;
/** Five words: 55 bits, plenty for `modern`, where guessing is online and rate-limited. */
export const DEFAULT_PASSPHRASE_WORDS = 5;
/** Six words (66 bits) for `des`, whose passphrase can be attacked offline. */
export const DES_PASSPHRASE_WORDS = 6;

const WORDS = new Set(WORDLIST);

/** True when `word` (lowercase) is on the list. */
export function isListWord(word: string): boolean {
  return WORDS.has(word);
}

/** A passphrase of `count` words drawn uniformly (11 bits each, no modulo bias), joined by spaces. */
export function generateWordPassphrase(
  count = DEFAULT_PASSPHRASE_WORDS,
  random: (n: number) => Uint8Array = randomBytes,
): string {
  if (!Number.isInteger(count) || count < 1 || count > 24) throw duetError('bad-input', 'count must be 1–24');
  const bytes = random(2 * count);
  const words: string[] = [];
  for (let i = 0; i < count; i++) {
    const index = (((bytes[2 * i] ?? 0) << 8) | (bytes[2 * i + 1] ?? 0)) & 0x7ff;
    words.push(WORDLIST[index] ?? '');
  }
  return words.join(' ');
}

/** The safety code's words, in order. */
export function safetyCodeWords(code: SafetyCode): string[] {
  return code.map((index) => {
    const word = WORDLIST[index];
    if (word === undefined || index >= 1 << BITS_PER_WORD) throw duetError('bad-input', 'bad safety code');
    return word;
  });
}
