import { describe, expect, it } from 'vitest';
import { isListWord } from '@duet/core/protocol/words';
import { estimateStrength, offlineCrackTime } from '../src/lib/strength.ts';

describe('passphrase strength', () => {
  it('counts list words at 11 bits each', () => {
    expect(estimateStrength('abandon ability able about above', isListWord)).toEqual({
      bits: 55,
      method: 'words',
      words: 5,
    });
    expect(estimateStrength('Abandon-ability-able-about-above-absent', isListWord).bits).toBe(66);
  });

  it('counts anything else by characters, conservatively (NIST SP 800-63-1 appendix A)', () => {
    expect(estimateStrength('a', isListWord)).toMatchObject({ bits: 4, method: 'characters' });
    expect(estimateStrength('abcdefgh').bits).toBe(4 + 7 * 2);
    expect(estimateStrength('x'.repeat(20)).bits).toBe(4 + 14 + 18);
    expect(estimateStrength('x'.repeat(30)).bits).toBe(4 + 14 + 18 + 10);
    // Upper case and a non-letter together add 6 bits.
    expect(estimateStrength('Abcdefg1').bits).toBe(4 + 14 + 6);
    // One word off the list: the whole passphrase is counted by characters.
    expect(estimateStrength('abandon ability zzzzq', isListWord).method).toBe('characters');
    // Without the list (not loaded yet), characters.
    expect(estimateStrength('abandon ability able about above').method).toBe('characters');
    expect(estimateStrength('').bits).toBe(0);
  });

  it('says how long one GPU needs for a des passphrase', () => {
    expect(offlineCrackTime(20)).toBe('under a minute');
    expect(offlineCrackTime(40)).toBe('about 6.4 days');
    expect(offlineCrackTime(66)).toBe('over a million years');
  });
});
