import { describe, expect, it } from 'vitest';
import { isDuetError } from '../src/errors.ts';
import { deriveSafetyCode, SAFETY_CODE_BITS } from '../src/crypto/safety-code.ts';
import { safetyCodeWords } from '../src/protocol/words.ts';
import { MemoryRelay } from './modern-pair.ts';

const ISK = Uint8Array.from({ length: 64 }, (_, i) => i);
const SID = Uint8Array.from({ length: 16 }, (_, i) => 0xa0 + i);

function codesOf(relay: MemoryRelay, side: 'a' | 'b'): (readonly number[] | undefined)[] {
  return relay.of(side, 'ready').map((ready) => ready.safetyCode);
}

describe('safety code', () => {
  it('matches a fixed vector (HKDF-SHA-256 computed independently, in Python hashlib/hmac)', () => {
    // okm = HKDF(IKM = 00..3f, salt = a0..af, info = "duet/safety-code", 7) = 8495d6e72847e1
    const code = deriveSafetyCode(ISK, SID);
    expect(code).toEqual([1060, 1397, 1486, 644, 1008]);
    expect(safetyCodeWords(code)).toEqual(['loyal', 'push', 'right', 'explain', 'lawn']);
    expect(SAFETY_CODE_BITS).toBe(55);
  });

  it('depends on the ISK and on the session id', () => {
    const otherIsk = ISK.slice();
    otherIsk[0] = 1;
    const otherSid = SID.slice();
    otherSid[15] = 0;
    expect(deriveSafetyCode(otherIsk, SID)).not.toEqual(deriveSafetyCode(ISK, SID));
    expect(deriveSafetyCode(ISK, otherSid)).not.toEqual(deriveSafetyCode(ISK, SID));
  });

  it('checks its inputs', () => {
    for (const [isk, sid] of [
      [new Uint8Array(31), SID],
      [ISK, new Uint8Array(0)],
    ] as const) {
      expect(() => deriveSafetyCode(isk, sid)).toThrow(expect.toSatisfy((e) => isDuetError(e, 'bad-input')));
    }
    expect(() => safetyCodeWords([2048])).toThrow(expect.toSatisfy((e) => isDuetError(e, 'bad-input')));
    // 32 bytes is enough: the bound is inclusive.
    expect(deriveSafetyCode(ISK.subarray(0, 32), SID)).toHaveLength(5);
  });

  it('is the same on both sides of a session, and new for the next session', async () => {
    const relay = MemoryRelay.pair('correct horse battery staple');
    await relay.start();
    const [first] = codesOf(relay, 'a');
    expect(first).toHaveLength(5);
    expect(codesOf(relay, 'b')).toEqual([first]);

    // The partner leaves and comes back: a new session, a new code, again the same on both sides.
    relay.a.reset();
    relay.b.reset();
    await relay.start();
    const [, second] = codesOf(relay, 'a');
    expect(second).toHaveLength(5);
    expect(codesOf(relay, 'b')).toEqual([first, second]);
    expect(second).not.toEqual(first);
  });

  it('is never produced by a failed handshake', async () => {
    const relay = MemoryRelay.pair('right', 'wrong');
    await relay.start();
    expect(relay.of('a', 'ready')).toEqual([]);
    expect(relay.of('b', 'ready')).toEqual([]);
  });
});

describe('partner-retried', () => {
  it('a failed side learns that its partner is trying again; the side that retried waits for it', async () => {
    const relay = MemoryRelay.pair('right', 'wrong');
    await relay.start();
    expect(relay.of('a', 'partner-retried')).toEqual([]);
    await relay.retry('b', 'right');
    expect(relay.of('a', 'partner-retried')).toHaveLength(1);
    expect(relay.of('b', 'partner-retried')).toEqual([]);
    expect(relay.isReady('b')).toBe(false);
    await relay.retry('a', 'right');
    expect(relay.isReady('a') && relay.isReady('b')).toBe(true);
  });
});
