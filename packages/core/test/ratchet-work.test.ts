/**
 * The work a frame can cost before it is known to be genuine (issue 10, item 5), counted in HMAC
 * computations rather than time: every HMAC the ratchet computes goes through this counter.
 */
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { fromHex } from '../src/bytes.ts';
import { deriveChainKeys } from '../src/crypto/modern-keys.ts';
import {
  createRatchet,
  MAX_SKIP,
  SKIP_BUDGET_BURST,
  SKIP_BUDGET_PER_SECOND,
} from '../src/session/ratchet.ts';

const counter = vi.hoisted(() => ({ hmacs: 0 }));

vi.mock('@noble/hashes/hmac.js', async (importOriginal) => {
  const original = await importOriginal<typeof import('@noble/hashes/hmac.js')>();
  const counted = ((...args: Parameters<typeof original.hmac>) => {
    counter.hmacs += 1;
    return original.hmac(...args);
  }) as typeof original.hmac;
  counted.create = original.hmac.create;
  return { ...original, hmac: counted };
});

const isk = fromHex('b69effbf61b51d56401c0f65601abe428de8206feaaf0e32198896dcae7b35cd'.repeat(2));
const sid = fromHex('00112233445566778899aabbccddeeff');
const forged = () => new Uint8Array(48).fill(0xa5);

function pair() {
  const a = deriveChainKeys(isk, sid);
  const b = deriveChainKeys(isk, sid);
  return {
    alice: createRatchet({ send: a.initiator, receive: a.responder }),
    bob: createRatchet({ send: b.responder, receive: b.initiator }),
  };
}

describe('ratchet: work per frame before authentication', () => {
  beforeEach(() => {
    counter.hmacs = 0;
  });

  it('a forged frame 999 ahead costs no HMAC at all', async () => {
    const { bob } = pair();
    counter.hmacs = 0;
    expect(await bob.open(999, forged(), 0)).toEqual([{ type: 'warning', code: 'tampered' }]);
    expect(counter.hmacs).toBe(0);
  });

  it('a forged frame exactly MAX_SKIP ahead costs at most MAX_SKIP + 2 HMACs', async () => {
    const { bob } = pair();
    counter.hmacs = 0;
    expect(await bob.open(MAX_SKIP, forged(), 0)).toEqual([{ type: 'warning', code: 'tampered' }]);
    expect(counter.hmacs).toBeGreaterThan(0);
    expect(counter.hmacs).toBeLessThanOrEqual(MAX_SKIP + 2);
    expect(MAX_SKIP).toBeLessThanOrEqual(64);
  });

  it('a flood of forged frames spends no more skip work than the budget allows per second', async () => {
    const { bob } = pair();
    const hmacsAt = async (now: number, frames: number) => {
      counter.hmacs = 0;
      for (let i = 0; i < frames; i++) await bob.open(MAX_SKIP, forged(), now);
      return counter.hmacs;
    };
    const admitted = Math.floor(SKIP_BUDGET_BURST / MAX_SKIP);
    expect(await hmacsAt(0, 100)).toBeLessThanOrEqual(admitted * (MAX_SKIP + 2));
    expect(await hmacsAt(0, 100)).toBe(0); // nothing left this second
    const refilled = Math.floor(SKIP_BUDGET_PER_SECOND / MAX_SKIP);
    expect(await hmacsAt(1_000, 100)).toBeLessThanOrEqual(refilled * (MAX_SKIP + 2));
  });

  it('a genuine frame exactly MAX_SKIP ahead still opens; one further is refused', async () => {
    const { alice, bob } = pair();
    const frames: Uint8Array[] = [];
    for (let i = 0; i <= MAX_SKIP + 1; i++) frames.push(await alice.seal(`m${i}`));
    const ciphertext = (seq: number) => frames[seq]!.subarray(11);
    expect(await bob.open(MAX_SKIP + 1, ciphertext(MAX_SKIP + 1), 0)).toEqual([
      { type: 'warning', code: 'tampered' },
    ]);
    expect(await bob.open(MAX_SKIP, ciphertext(MAX_SKIP), 0)).toEqual([
      { type: 'message', text: `m${MAX_SKIP}` },
    ]);
    expect(await bob.open(MAX_SKIP + 1, ciphertext(MAX_SKIP + 1), 0)).toEqual([
      { type: 'message', text: `m${MAX_SKIP + 1}` },
    ]);
  });

  it('a genuine frame refused while the budget is spent opens once it has refilled', async () => {
    const { alice, bob } = pair();
    for (let i = 0; i < Math.floor(SKIP_BUDGET_BURST / MAX_SKIP); i++) await bob.open(MAX_SKIP, forged(), 0);
    for (let i = 0; i < 5; i++) await alice.seal('dropped by the relay');
    const late = (await alice.seal('arrives')).subarray(11);
    expect(await bob.open(5, late, 0)).toEqual([{ type: 'warning', code: 'tampered' }]);
    expect(await bob.open(5, late, 1_000)).toEqual([{ type: 'message', text: 'arrives' }]);
  });
});
