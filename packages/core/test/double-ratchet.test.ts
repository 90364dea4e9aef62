/**
 * The Double Ratchet machine alone (session/double-ratchet.ts): who may speak first, a DH step at
 * every turn change and none otherwise, skipped keys within their bounds, replays, the work a
 * frame can cost before it is known to be the partner's, and no state change on a refusal.
 */
import { describe, expect, it } from 'vitest';
import { concatBytes, toHex } from '../src/bytes.ts';
import { sealOnce } from '../src/crypto/aead.ts';
import { decodeFrame, encodeFrame, messageHeader, type MessageFrame } from '../src/crypto/modern-frame.ts';
import { MAX_DATA_BYTES } from '../src/crypto/padding.ts';
import { chainStep, frameMac } from '../src/crypto/modern-keys.ts';
import {
  MAX_PREVIOUS_CHAINS,
  MAX_SKIP,
  MAX_SKIPPED_KEYS,
  MAX_SKIPPED_PER_CHAIN,
  SKIP_BUDGET_BURST,
  SKIP_BUDGET_PER_SECOND,
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

/** Work done by `ratchet` while `body` runs. */
async function workOf(ratchet: DoubleRatchet, body: () => Promise<unknown>) {
  const before = { ...ratchet.work };
  await body();
  return {
    macChecks: ratchet.work.macChecks - before.macChecks,
    chainSteps: ratchet.work.chainSteps - before.chainSteps,
    dhOperations: ratchet.work.dhOperations - before.dhOperations,
    aeadOpens: ratchet.work.aeadOpens - before.aeadOpens,
  };
}

const NO_WORK = { macChecks: 0, chainSteps: 0, dhOperations: 0, aeadOpens: 0 };

describe('double ratchet: conversation shape', () => {
  it('the initiator may speak first, on the chain both derived from the ISK', async () => {
    const { a, b } = await ratchetPair();
    const first = await send(a, 'hello from a');
    expect(first.pn).toBe(0);
    expect(first.n).toBe(0);
    expect(await open(b, first)).toBe('message hello from a');
  });

  it('the responder may speak first: its first frame is a DH step on the initiator’s first key', async () => {
    const { a, b } = await ratchetPair();
    const first = await send(b, 'hello from b');
    expect(b.work.dhOperations).toBe(2); // a new key pair, and one DH
    const received = await workOf(a, async () => expect(await open(a, first)).toBe('message hello from b'));
    expect(received.dhOperations).toBe(1); // the receiving half: one DH
  });

  it('a new ratchet key at every turn change, and the same one while the speaker does not change', async () => {
    const { a, b } = await ratchetPair();
    const keys: Record<'a' | 'b', string[]> = { a: [], b: [] };
    const script = ['a', 'a', 'b', 'b', 'b', 'a', 'b', 'a', 'a'] as const;
    for (const [i, from] of script.entries()) {
      const frame = await send(from === 'a' ? a : b, `m${i}`);
      keys[from].push(toHex(frame.dh));
      expect(await open(from === 'a' ? b : a, frame)).toBe(`message m${i}`);
    }
    // a spoke in three turns, b in three: each turn has its own key, repeated within the turn.
    expect(keys.a).toEqual([keys.a[0], keys.a[0], keys.a[2], keys.a[3], keys.a[3]]);
    expect(new Set(keys.a).size).toBe(3);
    expect(keys.b).toEqual([keys.b[0], keys.b[0], keys.b[0], keys.b[3]]);
    expect(new Set(keys.b).size).toBe(2);
  });

  it('without a turn change, sending and receiving cost no DH at all', async () => {
    const { a, b } = await ratchetPair();
    await open(b, await send(a, 'warm up'));
    const work = await workOf(b, async () => {
      for (let i = 0; i < 5; i++) expect(await open(b, await send(a, `m${i}`))).toBe(`message m${i}`);
    });
    expect(work.dhOperations).toBe(0);
  });

  it('pn carries the length of the previous sending chain', async () => {
    const { a, b } = await ratchetPair();
    for (let i = 0; i < 3; i++) await open(b, await send(a, `a${i}`));
    await open(a, await send(b, 'turn'));
    const next = await send(a, 'after the turn');
    expect([next.pn, next.n]).toEqual([3, 0]);
  });

  it('messages cross in flight: both open, and both sides carry on', async () => {
    const { a, b } = await ratchetPair();
    await open(b, await send(a, 'start'));
    const fromA = await send(a, 'crossing a');
    const fromB = await send(b, 'crossing b');
    expect(await open(a, fromB)).toBe('message crossing b');
    expect(await open(b, fromA)).toBe('message crossing a');
    expect(await open(b, await send(a, 'after'))).toBe('message after');
    expect(await open(a, await send(b, 'after too'))).toBe('message after too');
  });
});

describe('double ratchet: replays and late frames', () => {
  it('a replayed frame is refused as replayed, on the current chain and on earlier ones', async () => {
    const { a, b } = await ratchetPair();
    const old = await send(a, 'old');
    await open(b, old);
    expect(await open(b, old)).toBe('replayed');
    await open(a, await send(b, 'turn'));
    const current = await send(a, 'current');
    await open(b, current);
    expect(await open(b, current)).toBe('replayed');
    expect(await open(b, old)).toBe('replayed');
  });

  it('frames the relay held back open late, once, within the window', async () => {
    const { a, b } = await ratchetPair();
    const held = [await send(a, 'one'), await send(a, 'two')];
    expect(await open(b, await send(a, 'three'))).toBe('message three');
    await open(a, await send(b, 'turn'));
    expect(await open(b, await send(a, 'new chain'))).toBe('message new chain');
    expect(await open(b, held[1]!)).toBe('message two');
    expect(await open(b, held[0]!)).toBe('message one');
    expect(await open(b, held[0]!)).toBe('replayed');
  });

  it('keys of a chain left before its end are kept up to pn', async () => {
    const { a, b } = await ratchetPair();
    await open(b, await send(a, 'seen'));
    const lost = await send(a, 'sent last on this chain');
    await open(a, await send(b, 'turn'));
    expect(await open(b, await send(a, 'new chain'))).toBe('message new chain');
    expect(await open(b, lost)).toBe('message sent last on this chain');
  });

  it(`keeps only the last ${MAX_SKIPPED_PER_CHAIN} skipped keys of a chain`, async () => {
    const { a, b } = await ratchetPair();
    const frames: MessageFrame[] = [];
    for (let i = 0; i <= MAX_SKIPPED_PER_CHAIN + 20; i++) frames.push(await send(a, `m${i}`));
    expect(await open(b, frames.at(-1)!)).toBe(`message m${MAX_SKIPPED_PER_CHAIN + 20}`);
    expect(await open(b, frames[19]!)).toBe('replayed');
    expect(await open(b, frames[20]!)).toBe('message m20');
    expect(b.snapshot().skipped.get(toHex(frames[0]!.dh))?.size).toBe(MAX_SKIPPED_PER_CHAIN - 1);
  });

  it(`keeps at most ${MAX_SKIPPED_KEYS} skipped keys in all, the oldest going first`, async () => {
    const { a, b } = await ratchetPair();
    const first: MessageFrame[] = [];
    for (let turn = 0; turn < 3; turn++) {
      const frames: MessageFrame[] = [];
      for (let i = 0; i <= MAX_SKIPPED_PER_CHAIN; i++) frames.push(await send(a, `t${turn} m${i}`));
      expect(await open(b, frames.at(-1)!, T0 + turn)).toBe(`message t${turn} m${MAX_SKIPPED_PER_CHAIN}`);
      first.push(frames[0]!);
      await open(a, await send(b, `turn ${turn}`));
    }
    let total = 0;
    for (const keys of b.snapshot().skipped.values()) total += keys.size;
    expect(total).toBe(MAX_SKIPPED_KEYS);
    expect(await open(b, first[0]!)).toBe('replayed'); // evicted
    expect(await open(b, first[2]!)).toBe('message t2 m0');
  });

  it(`erases skipped keys ${SKIPPED_KEY_TTL_MS / 1000} s after storing them`, async () => {
    const { a, b } = await ratchetPair();
    const late = await send(a, 'late');
    const alsoLate = await send(a, 'also late');
    await open(b, await send(a, 'on time'), T0);
    expect(await open(b, late, T0 + SKIPPED_KEY_TTL_MS - 1)).toBe('message late');
    expect(await open(b, alsoLate, T0 + SKIPPED_KEY_TTL_MS)).toBe('replayed');
    expect(b.snapshot().skipped.size).toBe(0);
  });

  it(`remembers ${MAX_PREVIOUS_CHAINS} earlier chains; a frame of an older one is refused`, async () => {
    const { a, b } = await ratchetPair();
    const late: MessageFrame[] = [];
    for (let turn = 0; turn <= MAX_PREVIOUS_CHAINS + 1; turn++) {
      late.push(await send(a, `late ${turn}`));
      await open(b, await send(a, `turn ${turn}`));
      await open(a, await send(b, `reply ${turn}`));
    }
    expect(b.snapshot().previous).toHaveLength(MAX_PREVIOUS_CHAINS);
    expect(await open(b, late[0]!)).toBe('tampered'); // its chain is forgotten: nothing knows its MAC key
    expect(await open(b, late[2]!)).toBe('message late 2');
  });
});

describe('double ratchet: work per frame', () => {
  it('a forged frame costs one MAC check and nothing else, wherever it claims to be', async () => {
    const { a, b } = await ratchetPair();
    await open(b, await send(a, 'warm up'));
    await open(a, await send(b, 'b speaks'));
    const genuine = await send(a, 'genuine');
    const forgeries: MessageFrame[] = [
      { ...genuine, mac: new Uint8Array(16) }, // current chain, next message
      { ...genuine, n: genuine.n + MAX_SKIP }, // far ahead on the current chain
      { ...genuine, n: 2 ** 32 - 1 },
      { ...genuine, dh: new Uint8Array(32).fill(9) }, // a new chain
      { ...genuine, dh: new Uint8Array(32).fill(9), n: MAX_SKIP, pn: MAX_SKIP },
    ];
    for (const forged of forgeries) {
      const work = await workOf(b, async () => expect(await open(b, forged)).toBe('tampered'));
      expect(work).toEqual({ ...NO_WORK, macChecks: 1 });
    }
    expect(await open(b, genuine)).toBe('message genuine');
  });

  it('a frame claiming a new chain while our own DH step is pending costs nothing at all', async () => {
    const { a, b } = await ratchetPair();
    const first = await send(a, 'a speaks');
    await open(b, first); // b has not answered: a cannot have a key of b's to ratchet onto
    const work = await workOf(b, async () =>
      expect(await open(b, { ...first, dh: new Uint8Array(32).fill(7) })).toBe('tampered'),
    );
    expect(work).toEqual(NO_WORK);
  });

  it('a genuine frame exactly MAX_SKIP ahead opens; one further moves the chain without opening', async () => {
    const { a, b } = await ratchetPair();
    const frames: MessageFrame[] = [];
    for (let i = 0; i <= MAX_SKIP + 1; i++) frames.push(await send(a, `m${i}`));
    const beyond = await workOf(b, async () => expect(await b.open(frames[MAX_SKIP + 1]!, T0)).toEqual([]));
    expect(beyond).toEqual({ ...NO_WORK, macChecks: 1, chainSteps: MAX_SKIP });
    const at = await workOf(b, async () =>
      expect(await open(b, frames[MAX_SKIP]!)).toBe(`message m${MAX_SKIP}`),
    );
    expect(at.chainSteps).toBe(1);
    expect(await open(b, frames[MAX_SKIP + 1]!)).toBe(`message m${MAX_SKIP + 1}`);
    expect(await open(b, frames[5]!)).toBe('replayed'); // its key was never kept
  });

  it('a long loss never wedges a chain: each authentic frame out of reach moves it MAX_SKIP on', async () => {
    const { a, b } = await ratchetPair();
    await open(b, await send(a, 'warm up'));
    await open(a, await send(b, 'b speaks')); // a's next frames start a new chain
    for (let i = 0; i < 2 * MAX_SKIP + 10; i++) await a.seal('lost', T0);
    const resent = [await send(a, 'resent 1'), await send(a, 'resent 2'), await send(a, 'resent 3')];
    expect(await b.open(resent[0]!, T0)).toEqual([]); // the DH step, then MAX_SKIP on
    expect(await b.open(resent[1]!, T0 + 1_000)).toEqual([]); // MAX_SKIP more
    expect(await open(b, resent[2]!, T0 + 2_000)).toBe('message resent 3');
    expect(await open(b, resent[0]!, T0 + 2_000)).toBe('message resent 1');
    expect(await open(b, resent[1]!, T0 + 2_000)).toBe('message resent 2');
  });

  it('skipping is drawn from a budget per second: a partner cannot make us step without end', async () => {
    const { a, b } = await ratchetPair();
    /** A genuine frame MAX_SKIP ahead of b: the relay dropped everything before it. */
    const farAhead = async () => {
      for (let i = 0; i < MAX_SKIP; i++) await a.seal('dropped', T0);
      return send(a, 'far ahead');
    };
    const admitted = Math.floor(SKIP_BUDGET_BURST / MAX_SKIP);
    for (let i = 0; i < admitted; i++) expect(await open(b, await farAhead())).toBe('message far ahead');
    const refused = await farAhead();
    const work = await workOf(b, async () => expect(await open(b, refused)).toBe('rate-limited'));
    expect(work).toEqual({ ...NO_WORK, macChecks: 1 });
    const refilled = T0 + (1000 * MAX_SKIP) / SKIP_BUDGET_PER_SECOND;
    expect(await open(b, refused, refilled - 1)).toBe('rate-limited');
    expect(await open(b, refused, refilled)).toBe('message far ahead');
  });
});

describe('double ratchet: nothing changes until a frame authenticates', () => {
  it('a frame whose MAC verifies but whose AEAD fails changes nothing', async () => {
    const { a, b } = await ratchetPair();
    await open(b, await send(a, 'warm up'));
    for (const turn of [false, true]) {
      if (turn) await open(a, await send(b, 'turn'));
      const genuine = await send(a, 'genuine');
      // Only the holder of the chain's header key can make this frame: the partner, or a thief.
      const headerKey = turn ? b.snapshot().nextReceivingHeaderKey : b.snapshot().receiving!.headerKey;
      const ciphertext = genuine.ciphertext.slice();
      ciphertext[0] = (ciphertext[0] ?? 0) ^ 1;
      const broken = {
        ...genuine,
        ciphertext,
        mac: frameMac(headerKey, messageHeader(genuine), ciphertext),
      };
      const before = b.snapshot();
      expect(await open(b, broken)).toBe('tampered');
      expect(b.snapshot()).toEqual(before);
      expect(await open(b, genuine)).toBe('message genuine');
    }
  });

  it('a late frame whose MAC verifies but whose AEAD fails leaves its stored key as it was', async () => {
    const { a, b } = await ratchetPair();
    const late = await send(a, 'late');
    await open(b, await send(a, 'overtakes it'));
    const ciphertext = late.ciphertext.slice();
    ciphertext[0] = (ciphertext[0] ?? 0) ^ 1;
    const headerKey = b.snapshot().receiving!.headerKey;
    const broken = { ...late, ciphertext, mac: frameMac(headerKey, messageHeader(late), ciphertext) };
    const before = b.snapshot();
    expect(await open(b, broken, T0 + 5_000)).toBe('tampered');
    expect(b.snapshot()).toEqual(before);
    expect(await open(b, late, T0 + 5_000)).toBe('message late');
  });

  it('a refused frame leaves the whole state as it was', async () => {
    const { a, b } = await ratchetPair();
    await open(b, await send(a, 'warm up'));
    const genuine = await send(a, 'genuine');
    const before = b.snapshot();
    await open(b, { ...genuine, mac: new Uint8Array(16) });
    await open(b, { ...genuine, dh: new Uint8Array(32).fill(3) });
    expect(b.snapshot()).toEqual(before);
  });
});

describe('double ratchet: the state', () => {
  it('snapshot is a deep copy', async () => {
    const { a, b } = await ratchetPair();
    const copy = b.snapshot();
    copy.root.fill(0);
    copy.receiving!.chainKey!.fill(0);
    expect(await open(b, await send(a, 'unaffected'))).toBe('message unaffected');
  });

  it('destroy erases every key: sealing throws no-partner, opening does nothing', async () => {
    const { a, b } = await ratchetPair();
    const frame = await send(a, 'after the end');
    const state = b.snapshot();
    b.destroy();
    await expect(b.seal('x', T0)).rejects.toEqual(expect.objectContaining({ code: 'no-partner' }));
    expect(await b.open(frame, T0)).toEqual([]);
    expect(state.root.some((byte) => byte !== 0)).toBe(true); // the copy is not the state
  });

  it('refuses text that is not well-formed Unicode, and text too long, as bad-input', async () => {
    const { a } = await ratchetPair();
    const badInput = expect.objectContaining({ code: 'bad-input' });
    await expect(a.seal('lone \ud800', T0)).rejects.toEqual(badInput);
    await expect(a.seal('x'.repeat(16 * 1024 + 1), T0)).rejects.toEqual(badInput);
    expect(await a.seal('still fine', T0)).toBeInstanceOf(Uint8Array);
  });

  it('a frame that authenticates but does not unpad is refused as bad-frame; its key is spent', async () => {
    const { a, b } = await ratchetPair();
    // Made with the initiator's own keys, as only the partner could: 32 zero bytes have no
    // 0x80 marker, so they are no padding `pad` would produce.
    const state = a.snapshot();
    const header = { dh: state.self!.publicKey, pn: 0, n: 0 };
    const { messageKey } = chainStep(state.sending!.chainKey);
    const ciphertext = concatBytes(
      ...(await sealOnce(messageKey, 0, messageHeader(header), new Uint8Array(32))),
    );
    const mac = frameMac(state.sending!.headerKey, messageHeader(header), ciphertext);
    const frame: MessageFrame = { type: 'message', ...header, ciphertext, mac };
    expect(await open(b, messageFrame(encodeFrame(frame)))).toBe('bad-frame');
    expect(await open(b, frame)).toBe('replayed');
  });
});

describe('double ratchet: data frames (file chunks)', () => {
  function dataFrame(bytes: Uint8Array): MessageFrame {
    const frame = decodeFrame(bytes);
    if (frame.type !== 'data') throw new Error('expected a data frame');
    return frame;
  }

  it('data and texts share the chains: interleaved across turn changes, each opens as what it is', async () => {
    const { a, b } = await ratchetPair();
    const chunk = (fill: number) => new Uint8Array(MAX_DATA_BYTES).fill(fill);
    const first = dataFrame(await a.sealData(chunk(1), T0));
    const text = await send(a, 'between chunks');
    const second = dataFrame(await a.sealData(chunk(2), T0));
    expect([first.n, text.n, second.n]).toEqual([0, 1, 2]);
    expect(await b.open(first, T0)).toEqual([{ type: 'data', bytes: chunk(1) }]);
    expect(await open(b, text)).toBe('message between chunks');
    expect(await b.open(second, T0)).toEqual([{ type: 'data', bytes: chunk(2) }]);
    // A reply (a receipt) changes the turn: the next chunk rides a new DH chain.
    expect(await open(a, await send(b, 'ack'))).toBe('message ack');
    const third = dataFrame(await a.sealData(Uint8Array.of(3), T0));
    expect(toHex(third.dh)).not.toBe(toHex(first.dh));
    expect(third.pn).toBe(3);
    expect(await b.open(third, T0)).toEqual([{ type: 'data', bytes: Uint8Array.of(3) }]);
  });

  it('parts seal as their concatenation; a short payload after a full one opens exactly (the reused pad buffer keeps nothing)', async () => {
    const { a, b } = await ratchetPair();
    const full = dataFrame(
      await a.sealData([Uint8Array.of(7), new Uint8Array(MAX_DATA_BYTES - 1).fill(8)], T0),
    );
    const short = dataFrame(await a.sealData([Uint8Array.of(1), Uint8Array.of(2, 3)], T0));
    const [opened] = await b.open(full, T0);
    expect(opened?.type === 'data' && opened.bytes[0] === 7 && opened.bytes[MAX_DATA_BYTES - 1] === 8).toBe(
      true,
    );
    expect(await b.open(short, T0)).toEqual([{ type: 'data', bytes: Uint8Array.of(1, 2, 3) }]);
  });

  it('a payload is handed over as a view of its padded plaintext, not copied', async () => {
    const { a, b } = await ratchetPair();
    const [opened] = await b.open(dataFrame(await a.sealData(new Uint8Array(5000).fill(4), T0)), T0);
    if (opened?.type !== 'data') throw new Error('expected data');
    expect(opened.bytes.length).toBe(5000);
    expect(opened.bytes.buffer.byteLength).toBe(8192); // the bucket: the plaintext's own buffer
    expect(opened.bytes.every((byte) => byte === 4)).toBe(true);
  });

  it('a delayed data frame opens once from its skipped key, a replay of it is refused', async () => {
    const { a, b } = await ratchetPair();
    const late = dataFrame(await a.sealData(Uint8Array.of(1, 2, 3), T0));
    const next = dataFrame(await a.sealData(Uint8Array.of(4), T0));
    expect(await b.open(next, T0)).toEqual([{ type: 'data', bytes: Uint8Array.of(4) }]);
    expect(await b.open(late, T0)).toEqual([{ type: 'data', bytes: Uint8Array.of(1, 2, 3) }]);
    expect(outcome(await b.open(late, T0))).toBe('replayed');
  });

  it('a data frame relabelled as a message (or back) is refused after one MAC check, and nothing moves', async () => {
    const { a, b } = await ratchetPair();
    const data = dataFrame(await a.sealData(Uint8Array.of(9), T0));
    const before = b.snapshot();
    const work = await workOf(b, async () => {
      expect(outcome(await b.open({ ...data, type: 'message' }, T0))).toBe('tampered');
    });
    expect(work).toEqual({ ...NO_WORK, macChecks: 1 });
    expect(b.snapshot()).toEqual(before);
    const text = await send(a, 'hi');
    expect(outcome(await b.open({ ...text, type: 'data' }, T0))).toBe('tampered');
    expect(await b.open(data, T0)).toEqual([{ type: 'data', bytes: Uint8Array.of(9) }]);
    expect(await open(b, text)).toBe('message hi');
  });

  it('refuses a payload above MAX_DATA_BYTES, and after destroy, before touching the chain', async () => {
    const { a, b } = await ratchetPair();
    const before = a.snapshot();
    await expect(a.sealData(new Uint8Array(MAX_DATA_BYTES + 1), T0)).rejects.toMatchObject({
      code: 'bad-input',
    });
    expect(a.snapshot()).toEqual(before);
    const frame = dataFrame(await a.sealData(new Uint8Array(0), T0));
    expect(frame.n).toBe(0);
    expect(await b.open(frame, T0)).toEqual([{ type: 'data', bytes: new Uint8Array(0) }]);
    a.destroy();
    await expect(a.sealData(Uint8Array.of(1), T0)).rejects.toMatchObject({ code: 'no-partner' });
  });
});
