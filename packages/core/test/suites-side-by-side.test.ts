/**
 * Why `modern` is the default, in one test: the same bit flip that `des` turns silently into a
 * different message, `modern` refuses.
 */
import { describe, expect, it } from 'vitest';
import { deriveDesKey, desDecrypt, desEncrypt } from '../src/crypto/des-suite.ts';
import { fromHex } from '../src/bytes.ts';
import { flipBit, MemoryRelay } from './modern-pair.ts';

const ORIGINAL = 'pay 100 EUR to Bob';
// '1' (0x31) xor 0x08 = '9' (0x39): byte 4 of the first block, bit 3.
const BIT = 4 * 8 + 3;

describe('a bit flipped in flight: des versus modern', () => {
  it('des accepts a bit-flipped IV and delivers a silently changed plaintext', async () => {
    const key = await deriveDesKey('pass', fromHex('123456789abcdefa1122334455667788'));
    const frame = desEncrypt(key, ORIGINAL);
    const altered = flipBit(frame, BIT); // the IV is the first 8 bytes
    expect(desDecrypt(key, altered)).toBe('pay 900 EUR to Bob');
  });

  it('modern rejects the same kind of flip as tampered and delivers nothing', async () => {
    const relay = MemoryRelay.pair('pass');
    await relay.start();
    expect(relay.isReady('a') && relay.isReady('b')).toBe(true);
    // Flip one bit of the ciphertext, just past the 43-byte authenticated header.
    relay.tap = (_from, frame) => flipBit(frame, 43 * 8 + BIT);
    await relay.send('a', ORIGINAL);
    expect(relay.of('b', 'message')).toEqual([]);
    expect(relay.of('b', 'warning')).toEqual([{ type: 'warning', code: 'tampered' }]);
    relay.tap = undefined;
    await relay.send('a', 'the real one');
    expect(relay.of('b', 'message')).toEqual([{ type: 'message', text: 'the real one' }]);
  });
});
