/**
 * A conservative estimate of a passphrase's strength, in bits, shown as people type. Never
 * used to block anything: it informs.
 *
 * - Words from the list (BIP-39 English, 2,048 words) count 11 bits each, when every word of
 *   the passphrase is on it and there are at least two: that is exact for generated passphrases
 *   and about right for chosen ones.
 * - Anything else gets the NIST SP 800-63-1 (appendix A) estimate for chosen passwords: 4 bits
 *   for the first character, 2 for each of the next 7, 1.5 for the 9th to 20th, 1 beyond, and 6
 *   more for upper case and non-letters together. People pick predictable strings, so this is
 *   deliberately low (a random 20-letter string gets 36 bits, not 94).
 */
export const BITS_PER_LIST_WORD = 11;
/** Below this, `modern` shows a hint: guessing is online, one try per handshake, rate-limited. */
export const MODERN_HINT_BITS = 40;
/** Below this, `des` shows a warning: one recorded frame lets anyone guess offline. */
export const DES_WARNING_BITS = 64;

export interface Strength {
  bits: number;
  method: 'words' | 'characters';
  words: number;
}

export function estimateStrength(passphrase: string, isListWord?: (word: string) => boolean): Strength {
  const text = passphrase.normalize('NFKC').trim();
  const words = text
    .toLowerCase()
    .split(/[\s\-_.,]+/)
    .filter(Boolean);
  if (isListWord && words.length >= 2 && words.every(isListWord)) {
    return { bits: words.length * BITS_PER_LIST_WORD, method: 'words', words: words.length };
  }
  const characters = [...text];
  let bits = 0;
  characters.forEach((_, i) => {
    bits += i === 0 ? 4 : i < 8 ? 2 : i < 20 ? 1.5 : 1;
  });
  if (/\p{Lu}/u.test(text) && /[^\p{L}]/u.test(text)) bits += 6;
  return { bits: Math.floor(bits), method: 'characters', words: 0 };
}

/** How long one GPU (about a million PBKDF2 guesses a second, docs/security.md) needs on average. */
export function offlineCrackTime(bits: number, guessesPerSecond = 1e6): string {
  const seconds = 2 ** bits / 2 / guessesPerSecond;
  const units: [number, string][] = [
    [60 * 60 * 24 * 365, 'year'],
    [60 * 60 * 24, 'day'],
    [60 * 60, 'hour'],
    [60, 'minute'],
  ];
  for (const [size, name] of units) {
    if (seconds >= size) {
      const count = seconds / size;
      if (name === 'year' && count >= 1e6) return 'over a million years';
      const rounded = count < 10 ? Math.round(count * 10) / 10 : Math.round(count);
      return `about ${rounded.toLocaleString('en')} ${name}${rounded === 1 ? '' : 's'}`;
    }
  }
  return 'under a minute';
}
