import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { generatePassphrase, generateRoomCode } from '../src/protocol/codes.ts';
import { roomCode } from '../src/protocol/control.ts';
import { isDuetError } from '../src/errors.ts';
import {
  DEFAULT_PASSPHRASE_WORDS,
  DES_PASSPHRASE_WORDS,
  generateWordPassphrase,
  isListWord,
  WORDLIST,
} from '../src/protocol/words.ts';

describe('room codes and passphrases', () => {
  it('every generated room code is a valid room for the relay', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 64, maxLength: 64 }), (pool) => {
        let offset = 0;
        const random = (n: number) => pool.slice(offset, (offset += n));
        const code = generateRoomCode(random);
        expect(code).toMatch(/^[a-z2-9]{4}-[a-z2-9]{4}-[a-z2-9]{4}$/);
        expect(roomCode.safeParse(code).success).toBe(true);
      }),
    );
  });

  it('codes and passphrases come out different each time', () => {
    expect(new Set(Array.from({ length: 100 }, () => generateRoomCode())).size).toBe(100);
    expect(generatePassphrase()).toMatch(/^([a-z2-9]{5}-){3}[a-z2-9]{5}$/);
    expect(generatePassphrase()).not.toBe(generatePassphrase());
  });
});

describe('word passphrases', () => {
  it('draws words from the BIP-39 English list: 11 bits each, every index reachable, no bias', () => {
    expect(WORDLIST).toHaveLength(2048);
    // 0x07ff and 0xffff both map to the last word: only the low 11 bits count.
    const fixed = [0x00, 0x00, 0x07, 0xff, 0xff, 0xff, 0x04, 0x00, 0x00, 0x01];
    expect(generateWordPassphrase(5, () => Uint8Array.from(fixed))).toBe('abandon zoo zoo length ability');
  });

  it('makes five words by default, six for des, and checks the count', () => {
    expect(generateWordPassphrase().split(' ')).toHaveLength(DEFAULT_PASSPHRASE_WORDS);
    expect(DEFAULT_PASSPHRASE_WORDS).toBe(5);
    expect(DES_PASSPHRASE_WORDS).toBe(6);
    for (const word of generateWordPassphrase(DES_PASSPHRASE_WORDS).split(' '))
      expect(isListWord(word)).toBe(true);
    expect(generateWordPassphrase()).not.toBe(generateWordPassphrase());
    for (const count of [0, 25, 1.5]) {
      expect(() => generateWordPassphrase(count)).toThrow(
        expect.toSatisfy((e) => isDuetError(e, 'bad-input')),
      );
    }
  });
});
