/**
 * The `modern` suite's safety code: a short authentication string that both people compare out
 * loud to be sure nobody sits in the middle (docs/security.md, "Safety code").
 *
 *   bytes = HKDF-SHA-256(IKM = ISK, salt = sid, info = "duet/safety-code", 7 bytes)
 *   code  = the first 55 bits of `bytes`, big-endian, as five 11-bit indices into the BIP-39
 *           English word list (the list passphrases are drawn from; protocol/words.ts).
 *
 * CPace already stops anyone who does not know the passphrase. The code guards against one who
 * does (who guessed it or learnt it) and relays two separate handshakes: each side then holds a
 * different ISK, so the two codes match with probability 2^-55. Its own HKDF label keeps it
 * independent of the chain keys: showing it reveals nothing about them.
 */
import { hkdf } from '@noble/hashes/hkdf.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { utf8Encode } from '../bytes.ts';
import { duetError } from '../errors.ts';

export const SAFETY_CODE_WORDS = 5;
export const BITS_PER_WORD = 11;
export const SAFETY_CODE_BITS = SAFETY_CODE_WORDS * BITS_PER_WORD;
const INFO = utf8Encode('duet/safety-code');

/** Five word indices in [0, 2048): the same on both sides of one session, new for every session. */
export type SafetyCode = readonly number[];

export function deriveSafetyCode(isk: Uint8Array, sid: Uint8Array): SafetyCode {
  if (!(isk instanceof Uint8Array) || isk.length < 32) throw duetError('bad-input', 'ISK must be ≥ 32 bytes');
  if (!(sid instanceof Uint8Array) || sid.length === 0) throw duetError('bad-input', 'sid must not be empty');
  // Stryker disable next-line ArithmeticOperator: equivalent: HKDF-Expand's first bytes do not depend on the length asked for; only the first 55 bits are read
  const bytes = hkdf(sha256, isk, sid, INFO, Math.ceil(SAFETY_CODE_BITS / 8));
  let bits = 0n;
  for (const byte of bytes) bits = (bits << 8n) | BigInt(byte);
  bits >>= BigInt(bytes.length * 8 - SAFETY_CODE_BITS);
  const indices: number[] = [];
  for (let i = SAFETY_CODE_WORDS - 1; i >= 0; i--) {
    indices.push(Number((bits >> BigInt(i * BITS_PER_WORD)) & 0x7ffn));
  }
  bytes.fill(0);
  return indices;
}
