/**
 * Property: whatever the interleaving of sends on both sides, and whatever order a network
 * delivers the frames in, every frame opens exactly once, with its own text, as long as it is
 * within the window (its chain among the receiver's current and MAX_PREVIOUS_CHAINS earlier
 * ones; the sizes here stay far below the skipped-key bounds); frames delivered again never open.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { toHex } from '../src/bytes.ts';
import type { MessageFrame } from '../src/crypto/modern-frame.ts';
import { deriveSessionKeys } from '../src/crypto/modern-keys.ts';
import { webCryptoX25519 } from '../src/crypto/x25519.ts';
import {
  createDoubleRatchet,
  MAX_PREVIOUS_CHAINS,
  type DoubleRatchet,
} from '../src/session/double-ratchet.ts';
import { ISK, messageFrame, SID } from './ratchet-pair.ts';

type Side = 'a' | 'b';
const other = (side: Side): Side => (side === 'a' ? 'b' : 'a');

interface InFlight {
  frame: MessageFrame;
  text: string;
  /** Which of its sender's chains it is on: 0, 1, 2 … */
  chain: number;
}

type Action =
  | { kind: 'send'; from: Side }
  /** Delivers any frame in flight to `to`; `newest` the latest one, so that older ones linger. */
  | { kind: 'deliver'; to: Side; pick: number }
  | { kind: 'newest'; to: Side }
  | { kind: 'replay'; to: Side; pick: number };

const side = fc.constantFrom<Side>('a', 'b');
const action: fc.Arbitrary<Action> = fc.oneof(
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('send' as const), from: side }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('deliver' as const), to: side, pick: fc.nat() }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('newest' as const), to: side }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('replay' as const), to: side, pick: fc.nat() }) },
);

async function pair(): Promise<Record<Side, DoubleRatchet>> {
  const x25519 = webCryptoX25519();
  return {
    a: await createDoubleRatchet(deriveSessionKeys(ISK, SID, 'initiator'), x25519),
    b: await createDoubleRatchet(deriveSessionKeys(ISK, SID, 'responder'), x25519),
  };
}

async function run(actions: Action[], drainAtEnd: boolean): Promise<void> {
  const ratchets = await pair();
  const inFlight: Record<Side, InFlight[]> = { a: [], b: [] }; // by destination
  const delivered: Record<Side, InFlight[]> = { a: [], b: [] };
  const opened = new Map<string, number>(); // text → times shown
  const chainOf: Record<Side, { key: string; index: number }> = {
    a: { key: '', index: -1 },
    b: { key: '', index: -1 },
  };
  // The newest chain of the partner each side has opened a frame of. The responder starts on
  // the initiator's first chain; the initiator knows no chain of the responder's yet.
  const newest: Record<Side, number> = { a: -1, b: 0 };
  let count = 0;

  const deliver = async (to: Side, item: InFlight) => {
    const effects = await ratchets[to].open(item.frame, 0);
    const texts = effects.flatMap((effect) => (effect.type === 'message' ? [effect.text] : []));
    for (const text of texts) opened.set(text, (opened.get(text) ?? 0) + 1);
    return texts;
  };

  const step = async (next: Action) => {
    if (next.kind === 'send') {
      const text = `${next.from}${count++}`;
      const frame = messageFrame(await ratchets[next.from].seal(text, 0));
      const key = toHex(frame.dh);
      const chain = chainOf[next.from];
      if (key !== chain.key) chainOf[next.from] = { key, index: chain.index + 1 };
      inFlight[other(next.from)].push({ frame, text, chain: chainOf[next.from].index });
      return;
    }
    const queue = next.kind === 'replay' ? delivered[next.to] : inFlight[next.to];
    if (queue.length === 0) return;
    const [item] =
      next.kind === 'replay'
        ? [queue[next.pick % queue.length]!]
        : queue.splice(next.kind === 'newest' ? queue.length - 1 : next.pick % queue.length, 1);
    const texts = await deliver(next.to, item!);
    if (next.kind === 'replay') {
      expect(texts).toEqual([]);
      return;
    }
    delivered[next.to].push(item!);
    const inWindow = item!.chain >= newest[next.to] - MAX_PREVIOUS_CHAINS;
    expect(texts).toEqual(inWindow ? [item!.text] : []);
    if (inWindow) newest[next.to] = Math.max(newest[next.to], item!.chain);
  };

  for (const next of actions) await step(next);
  if (drainAtEnd) {
    for (const to of ['a', 'b'] as const) {
      while (inFlight[to].length > 0) await step({ kind: 'deliver', to, pick: 0 });
    }
  }
  for (const times of opened.values()) expect(times).toBe(1);
}

describe('double ratchet: any interleaving, any delivery order', () => {
  it('every frame in the window opens exactly once, with its own text; a frame delivered again never opens', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(action, { maxLength: 80 }), fc.boolean(), (actions, drain) =>
        run(actions, drain),
      ),
      { numRuns: 120 },
    );
  });

  it('an ordered relay that drops frames: every frame that arrives opens, once, in order', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.record({ from: side, dropped: fc.boolean() }), { maxLength: 60 }),
        async (sends) => {
          const ratchets = await pair();
          const shown: Record<Side, string[]> = { a: [], b: [] };
          const expected: Record<Side, string[]> = { a: [], b: [] };
          for (const [i, { from, dropped }] of sends.entries()) {
            const frame = messageFrame(await ratchets[from].seal(`m${i}`, 0));
            if (dropped) continue;
            expected[other(from)].push(`m${i}`);
            for (const effect of await ratchets[other(from)].open(frame, 0)) {
              if (effect.type === 'message') shown[other(from)].push(effect.text);
            }
          }
          expect(shown).toEqual(expected);
        },
      ),
      { numRuns: 100 },
    );
  });

  it(`a frame held back opens if its chain is among the last ${MAX_PREVIOUS_CHAINS + 1}, and never otherwise`, async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.record({ a: fc.integer({ min: 1, max: 3 }), b: fc.integer({ min: 1, max: 3 }) }), {
          maxLength: MAX_PREVIOUS_CHAINS + 3,
        }),
        fc.integer({ min: 0, max: 2 }),
        async (turns, before) => {
          const ratchets = await pair();
          for (let i = 0; i < before; i++)
            await ratchets.b.open(messageFrame(await ratchets.a.seal('x', 0)), 0);
          const held = messageFrame(await ratchets.a.seal('held back', 0));
          await ratchets.b.open(messageFrame(await ratchets.a.seal('overtakes it', 0)), 0);
          for (const turn of turns) {
            for (let i = 0; i < turn.b; i++)
              await ratchets.a.open(messageFrame(await ratchets.b.seal('b', 0)), 0);
            for (let i = 0; i < turn.a; i++)
              await ratchets.b.open(messageFrame(await ratchets.a.seal('a', 0)), 0);
          }
          const effects = await ratchets.b.open(held, 0);
          const opens = turns.length <= MAX_PREVIOUS_CHAINS;
          expect(effects).toEqual(
            opens ? [{ type: 'message', text: 'held back' }] : [{ type: 'warning', code: 'tampered' }],
          );
        },
      ),
      { numRuns: 60 },
    );
  });
});
