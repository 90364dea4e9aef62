/**
 * The Double Ratchet at its edges (session/double-ratchet.ts): when earlier chains and their keys
 * are let go, the exact limits of MAX_SKIP on a chain and across a turn, the work counters, the
 * skip budget on every path (a partner's pn cannot shrink it), failures of the AEAD or X25519 that
 * are no fault of the frame's, restored states that break the machine's invariants, frames that
 * authenticate but carry a bad point, buffers the caller may reuse, and the sending side's own
 * refusals.
 */
import { describe, expect, it, vi } from 'vitest';
import { concatBytes, randomBytes, toHex, utf8Encode } from '../src/bytes.ts';
import { sealOnce } from '../src/crypto/aead.ts';
import { MAX_MESSAGE_NUMBER, messageHeader, type MessageFrame } from '../src/crypto/modern-frame.ts';
import { chainStep, frameMac } from '../src/crypto/modern-keys.ts';
import { pad } from '../src/crypto/padding.ts';
import type { X25519 } from '../src/crypto/x25519.ts';
import {
  MAX_PREVIOUS_CHAINS,
  MAX_SKIP,
  restoreDoubleRatchet,
  SKIP_BUDGET_BURST,
  SKIPPED_KEY_TTL_MS,
  type DoubleRatchet,
} from '../src/session/double-ratchet.ts';
import { messageFrame, outcome, ratchetPair } from './ratchet-pair.ts';

const T0 = 1_000;

async function send(from: DoubleRatchet, text: string, now = T0): Promise<MessageFrame> {
  return messageFrame(await from.seal(text, now));
}

async function open(to: DoubleRatchet, frame: MessageFrame, now = T0): Promise<string> {
  return outcome(await to.open(frame, now));
}

/** `count` frames sealed by `from` and never delivered (the relay lost them). */
async function lose(from: DoubleRatchet, count: number): Promise<void> {
  for (let i = 0; i < count; i++) await from.seal('lost', T0);
}

/** Ids (hex of the partner's ratchet key) of the chains that still hold skipped keys. */
function chainsWithKeys(ratchet: DoubleRatchet): string[] {
  return [...ratchet.snapshot().skipped.keys()];
}

describe('double ratchet: what is let go, and when', () => {
  it(`an earlier chain is remembered until ${SKIPPED_KEY_TTL_MS / 1000} s after it retired, not a moment longer`, async () => {
    const { a, b } = await ratchetPair();
    await open(b, await send(a, 'a1'));
    await open(a, await send(b, 'b1'));
    const late = await send(a, 'late'); // a's second chain, n = 0
    await send(a, 'lost'); // n = 1, never delivered
    const turn = await send(a, 'a3'); // n = 2: b keeps n = 1's key
    expect(await open(b, turn)).toBe('message a3');
    await open(a, await send(b, 'b2', T0 + 10), T0 + 10); // b's answer retires a's chain on b
    expect(await open(b, await send(a, 'a4', T0 + 20), T0 + 20)).toBe('message a4');
    expect(b.snapshot().previous).toHaveLength(2); // a's first chain (retired at T0), and this one
    const retiredAt = T0 + 20;
    // Just before the end: the retired chain is still known, so its replays are told apart.
    // (its kept key for `late`, stored at T0, is gone by then: keys expire on their own clock)
    expect(await open(b, late, retiredAt + SKIPPED_KEY_TTL_MS - 1)).toBe('replayed');
    expect(b.snapshot().previous).toHaveLength(1); // the first chain, retired at T0, is gone
    // At the end it is gone: its frames now look like a chain never seen, and cost nothing.
    expect(await open(b, late, retiredAt + SKIPPED_KEY_TTL_MS)).toBe('tampered');
    expect(b.snapshot().previous).toHaveLength(0);
  });

  it('a late frame of a retired chain opens from its kept key before the chain is let go', async () => {
    const { a, b } = await ratchetPair();
    await open(b, await send(a, 'a1'));
    await open(a, await send(b, 'b1'));
    const delayed = await send(a, 'delayed'); // a's chain 2, n = 0
    expect(await open(b, await send(a, 'a2'))).toBe('message a2'); // b keeps n = 0's key
    await open(a, await send(b, 'b2', T0 + 5), T0 + 5);
    expect(await open(b, await send(a, 'a3', T0 + 6), T0 + 6)).toBe('message a3'); // chain 2 retires
    expect(await open(b, delayed, T0 + SKIPPED_KEY_TTL_MS - 1)).toBe('message delayed');
  });

  it(`only ${MAX_PREVIOUS_CHAINS} earlier chains are kept: the keys of one pushed out go with it`, async () => {
    const { a, b } = await ratchetPair();
    await open(b, await send(a, 'warm up'));
    await open(a, await send(b, 'b'));
    const firstChain = toHex((await send(a, 'kept for later')).dh); // n = 0, never delivered
    expect(await open(b, await send(a, 'x'))).toBe('message x'); // b keeps n = 0's key
    expect(chainsWithKeys(b)).toContain(firstChain);
    for (let turn = 0; turn <= MAX_PREVIOUS_CHAINS; turn++) {
      await open(a, await send(b, `b${turn}`));
      expect(await open(b, await send(a, `a${turn}`))).toBe(`message a${turn}`);
    }
    expect(b.snapshot().previous).toHaveLength(MAX_PREVIOUS_CHAINS);
    expect(chainsWithKeys(b)).not.toContain(firstChain);
  });

  it('sealing lets expired skipped keys go too, not only opening', async () => {
    const { a, b } = await ratchetPair();
    await send(a, 'lost');
    expect(await open(b, await send(a, 'second'))).toBe('message second');
    expect(chainsWithKeys(b)).toHaveLength(1);
    await b.seal('reply', T0 + SKIPPED_KEY_TTL_MS);
    expect(chainsWithKeys(b)).toHaveLength(0);
  });
});

describe('double ratchet: the limits, exactly', () => {
  it('counts one chain step per key derived, and one AEAD open per frame opened', async () => {
    const { a, b } = await ratchetPair();
    const before = { ...a.work };
    await lose(a, 3);
    expect(a.work.chainSteps - before.chainSteps).toBe(3);
    const frame = await send(a, 'fourth');
    const opened = { ...b.work };
    expect(await open(b, frame)).toBe('message fourth');
    expect(b.work.chainSteps - opened.chainSteps).toBe(4); // three skipped, then its own
    expect(b.work.aeadOpens - opened.aeadOpens).toBe(1);
  });

  it('a replay on the current chain is refused before any AEAD', async () => {
    const { a, b } = await ratchetPair();
    const frame = await send(a, 'once');
    expect(await open(b, frame)).toBe('message once');
    const before = { ...b.work };
    expect(await open(b, frame)).toBe('replayed');
    expect(b.work.aeadOpens).toBe(before.aeadOpens);
    expect(b.work.chainSteps).toBe(before.chainSteps);
  });

  it('across a turn, the old chain’s keys are kept up to pn when at most MAX_SKIP were missed', async () => {
    const { a, b } = await ratchetPair();
    await open(b, await send(a, 'first')); // b expects n = 1 next on a's chain
    await lose(a, MAX_SKIP - 1);
    const last = await send(a, 'last of the chain'); // n = MAX_SKIP: pn will be MAX_SKIP + 1
    await open(a, await send(b, 'turn'));
    expect(await open(b, await send(a, 'new chain'))).toBe('message new chain');
    expect(await open(b, last)).toBe('message last of the chain');
  });

  it('across a turn, one more missed and the old chain’s keys are not derived at all', async () => {
    const { a, b } = await ratchetPair();
    await open(b, await send(a, 'first'));
    await lose(a, MAX_SKIP);
    const last = await send(a, 'last of the chain'); // pn - next = MAX_SKIP + 1
    await open(a, await send(b, 'turn'));
    const before = { ...b.work };
    expect(await open(b, await send(a, 'new chain'))).toBe('message new chain');
    expect(b.work.chainSteps - before.chainSteps).toBe(1); // the new chain's own step only
    expect(await open(b, last)).toBe('replayed');
  });

  it('a new chain’s first frame exactly MAX_SKIP in opens; one further moves the chain on unopened', async () => {
    for (const [lost, opens] of [
      [MAX_SKIP, true],
      [MAX_SKIP + 1, false],
    ] as const) {
      const { a, b } = await ratchetPair();
      await open(b, await send(a, 'first'));
      await open(a, await send(b, 'turn'));
      await lose(a, lost);
      const frame = await send(a, 'far in'); // n = lost on a's new chain
      const effects = await b.open(frame, T0);
      expect(outcome(effects)).toBe(opens ? 'message far in' : '0 effects');
      const kept = b.snapshot().skipped.get(toHex(frame.dh));
      expect(kept?.size ?? 0).toBe(opens ? 100 : 0);
    }
  });

  it('catching up on the current chain is drawn from the skip budget too', async () => {
    const { a, b } = await ratchetPair();
    const outOfReach = async (): Promise<MessageFrame> => {
      await lose(a, MAX_SKIP + 1);
      return send(a, 'out of reach');
    };
    for (let i = 0; i < SKIP_BUDGET_BURST / MAX_SKIP; i++)
      expect(await b.open(await outOfReach(), T0)).toEqual([]);
    const before = b.snapshot().receiving!.next;
    expect(await open(b, await outOfReach())).toBe('rate-limited');
    expect(b.snapshot().receiving!.next).toBe(before);
  });

  it('a turn that needs skipping is drawn from the skip budget: refused, with no DH, when it is spent', async () => {
    const { a, b } = await ratchetPair();
    await open(b, await send(a, 'first'));
    for (let i = 0; i < SKIP_BUDGET_BURST / MAX_SKIP; i++) {
      await lose(a, MAX_SKIP + 1);
      expect(await b.open(await send(a, 'out of reach'), T0)).toEqual([]); // spends MAX_SKIP
    }
    await open(a, await send(b, 'turn'));
    await lose(a, 5);
    const frame = await send(a, 'on a new chain'); // n = 5, and a few keys of the old chain to keep
    const before = { ...b.work };
    expect(await open(b, frame)).toBe('rate-limited');
    expect(b.work.dhOperations).toBe(before.dhOperations);
    expect(await open(b, frame, T0 + 1_000)).toBe('message on a new chain');
  });
});

describe('double ratchet: a partner that misbehaves', () => {
  it('a pn below what was already received on the old chain takes nothing off the skip bill of a turn', async () => {
    const { a, b } = await ratchetPair();
    await open(b, await send(a, 'first'));
    for (let i = 0; i < SKIP_BUDGET_BURST / MAX_SKIP; i++) {
      await lose(a, MAX_SKIP + 1);
      expect(await b.open(await send(a, 'out of reach'), T0)).toEqual([]); // spends MAX_SKIP
    }
    expect(b.snapshot().receiving!.next).toBe(1 + SKIP_BUDGET_BURST);
    await open(a, await send(b, 'turn'));
    await lose(a, 5);
    // n = 5 on a's new chain, made with a's own keys as only a could, with pn = 0 where a sent
    // more than 2,000 frames on its previous chain: 5 steps to pay for, whatever pn says.
    const state = a.snapshot();
    const header = { dh: state.self!.publicKey, pn: 0, n: 5 };
    const { messageKey } = chainStep(state.sending!.chainKey);
    const ciphertext = concatBytes(
      ...(await sealOnce(messageKey, 5, messageHeader(header), pad(utf8Encode('low pn')))),
    );
    const mac = frameMac(state.sending!.headerKey, messageHeader(header), ciphertext);
    const frame: MessageFrame = { type: 'message', ...header, ciphertext, mac };
    expect(await open(b, frame)).toBe('rate-limited');
    expect(await open(b, frame, T0 + 1_000)).toBe('message low pn');
  });
});

describe('double ratchet: a failure that is not the frame’s is not taken for a forgery', () => {
  it('the AEAD failing to run (WebCrypto refusing the key) rejects: nothing moves, and the frame opens later', async () => {
    const { a, b } = await ratchetPair();
    const frame = await send(a, 'opens later');
    const before = b.snapshot();
    const importKey = vi.spyOn(crypto.subtle, 'importKey').mockRejectedValueOnce(new Error('no WebCrypto'));
    try {
      await expect(b.open(frame, T0)).rejects.toThrow('no WebCrypto');
    } finally {
      importKey.mockRestore();
    }
    expect(b.snapshot()).toEqual(before);
    expect(await open(b, frame)).toBe('message opens later');
  });

  it('X25519 failing on a new chain (not a bad point) rejects, and the frame opens with a working one', async () => {
    const { a, b, x25519 } = await ratchetPair();
    await open(b, await send(a, 'first'));
    const turn = await send(b, 'turn');
    const failing: X25519 = { ...x25519.a, sharedSecret: () => Promise.reject(new Error('no X25519')) };
    await expect(restoreDoubleRatchet(a.snapshot(), failing).open(turn, T0)).rejects.toThrow('no X25519');
    expect(await open(a, turn)).toBe('message turn');
  });
});

describe('double ratchet: restored states that break its invariants', () => {
  it('with a sending chain but no key pair, or a key pair but no sending chain, a new chain costs no work', async () => {
    const { a, b, x25519 } = await ratchetPair();
    const first = await send(a, 'first');
    await open(b, first);
    const noSelf = a.snapshot();
    noSelf.self = undefined;
    const noSending = b.snapshot(); // b's sending half is pending: no key pair, no sending chain
    noSending.self = await x25519.b.generate();
    for (const state of [noSelf, noSending]) {
      const ratchet = restoreDoubleRatchet(state, x25519.b);
      expect(await open(ratchet, { ...first, dh: new Uint8Array(32).fill(7) })).toBe('tampered');
      expect(ratchet.work).toEqual({ macChecks: 0, chainSteps: 0, dhOperations: 0, aeadOpens: 0 });
    }
  });

  it('a current chain with no chain key opens nothing more of its own, and still turns', async () => {
    const { a, b, x25519 } = await ratchetPair();
    await open(b, await send(a, 'first'));
    const state = b.snapshot();
    state.receiving!.chainKey = undefined;
    const keyless = restoreDoubleRatchet(state, x25519.b);
    expect(await open(keyless, await send(a, 'next on the chain'))).toBe('replayed');
    await open(a, await send(keyless, 'turn'));
    expect(await open(keyless, await send(a, 'new chain'))).toBe('message new chain');
  });

  it('a retired chain opens nothing past its end, even with its chain key left in it', async () => {
    const { a, b, x25519 } = await ratchetPair();
    await open(b, await send(a, 'first'));
    const chainKey = b.snapshot().receiving!.chainKey!; // for n = 1
    const aBefore = a.snapshot();
    await open(a, await send(b, 'turn'));
    expect(await open(b, await send(a, 'new chain'))).toBe('message new chain'); // pn = 1
    const state = b.snapshot();
    state.previous[0]!.chainKey = chainKey;
    const leaky = restoreDoubleRatchet(state, x25519.b);
    // n = 1 on a's first chain, from a copy of a's state before the turn.
    const pastTheEnd = await send(restoreDoubleRatchet(aBefore, x25519.a), 'past the end');
    expect(await open(leaky, pastTheEnd)).toBe('replayed');
  });
});

describe('double ratchet: frames that authenticate but must still be refused', () => {
  it('a new chain on a low-order point is refused as tampered, and changes nothing', async () => {
    const { a } = await ratchetPair();
    // Only the partner knows the next header key; the test takes it from a's own state.
    const state = a.snapshot();
    const header = { dh: new Uint8Array(32), pn: 0, n: 0 }; // u = 0: a point of low order
    const ciphertext = concatBytes(
      ...(await sealOnce(randomBytes(32), 0, messageHeader(header), new Uint8Array(32))),
    );
    const mac = frameMac(state.nextReceivingHeaderKey, messageHeader(header), ciphertext);
    const before = structuredClone(a.snapshot());
    expect(await open(a, { type: 'message', ...header, ciphertext, mac })).toBe('tampered');
    expect(a.snapshot()).toEqual(before);
  });
});

describe('double ratchet: buffers', () => {
  it('keeps its own copy of a frame’s ratchet key: a caller reusing the frame’s bytes changes nothing', async () => {
    const { a, b } = await ratchetPair();
    await open(b, await send(a, 'first'));
    const turn = await send(b, 'turn');
    const dh = turn.dh.slice();
    expect(await open(a, turn)).toBe('message turn');
    turn.dh.fill(0); // the caller's buffer, reused
    const next = await send(b, 'same chain');
    expect(next.dh).toEqual(dh);
    expect(await open(a, next)).toBe('message same chain');
    expect(await open(b, await send(a, 'answer'))).toBe('message answer'); // a sent to b's real key
  });
});

describe('double ratchet: the sending side refuses what it cannot seal', () => {
  it(`a sending chain may carry message number ${MAX_MESSAGE_NUMBER}, and not one more`, async () => {
    const { a, x25519 } = await ratchetPair();
    const state = a.snapshot();
    state.sending!.n = MAX_MESSAGE_NUMBER;
    const nearEnd = restoreDoubleRatchet(state, x25519.a);
    const last = await send(nearEnd, 'the last one');
    expect(last.n).toBe(MAX_MESSAGE_NUMBER);
    await expect(nearEnd.seal('one too many', T0)).rejects.toMatchObject({
      code: 'bad-input',
      message: expect.stringContaining('exhausted'),
    });
  });

  it('with no key of the partner’s, or no key pair of its own, sealing is no-partner', async () => {
    const { a, x25519 } = await ratchetPair();
    const noRemote = a.snapshot();
    noRemote.sending = undefined;
    noRemote.remote = undefined;
    await expect(restoreDoubleRatchet(noRemote, x25519.a).seal('x', T0)).rejects.toMatchObject({
      code: 'no-partner',
      message: expect.stringContaining('no ratchet key to send to'),
    });
    const noSelf = a.snapshot();
    noSelf.self = undefined;
    await expect(restoreDoubleRatchet(noSelf, x25519.a).seal('x', T0)).rejects.toMatchObject({
      code: 'no-partner',
      message: expect.stringContaining('no ratchet key pair'),
    });
  });
});
