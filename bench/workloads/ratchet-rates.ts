/**
 * The `modern` message path's rates: channel send + receive of 100-byte texts with the Double
 * Ratchet, all from one side (no turn change: chain steps only) and alternating sides (a DH
 * ratchet step at every message), beside the symmetric ratchet it replaced
 * (baselines/symmetric-ratchet.ts), measured in alternating rounds so that the machine's load
 * drifts over all three alike. No Node built-ins: the same code runs in Node (workloads/crypto.ts)
 * and, bundled, in Chromium (workloads/crypto-browser.ts), where the product runs.
 */
import { randomBytes } from '@duet/core/bytes';
import type { X25519 } from '@duet/core/crypto/x25519';
import type { ChannelEffect, SecureChannel } from '@duet/core/session/channel';
import { createModernChannel } from '@duet/core/session/modern-channel';
import { symmetricDirection, type MessagePath } from '../baselines/symmetric-ratchet.ts';

const PASSPHRASE = 'correct horse battery staple';
const ROOM = 'bench-crypto';
const TEXT_100 = 'x'.repeat(100);
export const MAX_ITERATIONS = 1_000_000;

/** msgs/s of each round, per figure. */
export interface RatchetRounds {
  symmetric: number[];
  sameTurn: number[];
  turnChange: number[];
}

/** Calls of `step` per second over `ms` (at least `min` calls, at most `max`). */
export async function perSecond(
  step: () => unknown,
  ms: number,
  max = MAX_ITERATIONS,
  min = 3,
): Promise<number> {
  const started = performance.now();
  const until = started + ms;
  let count = 0;
  while (count < max && (count < min || performance.now() < until)) {
    await step();
    count += 1;
  }
  return count / ((performance.now() - started) / 1000);
}

function transmitted(effects: ChannelEffect[]): Uint8Array[] {
  return effects.flatMap((effect) => (effect.type === 'transmit' ? [effect.frame] : []));
}

/** One 100-byte message from `from` to `to`, through both channels. */
async function relayOne(from: MessagePath, to: MessagePath): Promise<void> {
  const [frame] = transmitted(await from.send(TEXT_100));
  if (!frame) throw new Error('modern send produced no frame');
  const effects = await to.receive(frame);
  if (!effects.some((effect) => effect.type === 'message'))
    throw new Error('modern receive lost the message');
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle]! : ((sorted[middle - 1] ?? 0) + (sorted[middle] ?? 0)) / 2;
}

/** Two `modern` channels wired in memory, as the relay would; resolves once both are ready. */
export async function modernPair(x25519?: X25519): Promise<[SecureChannel, SecureChannel]> {
  const options = { passphrase: PASSPHRASE, room: ROOM, ...(x25519 ? { x25519 } : {}) };
  const channels = [createModernChannel(options), createModernChannel(options)] as const;
  const ready = [false, false];
  const queue: { to: 0 | 1; run: () => Promise<ChannelEffect[]> }[] = [];
  let attempt = 0;
  const handle = (from: 0 | 1, effects: ChannelEffect[]): void => {
    const to = from === 0 ? 1 : 0;
    for (const effect of effects) {
      if (effect.type === 'ready') ready[from] = true;
      if (effect.type === 'failed') throw new Error(`modern handshake failed: ${effect.code}`);
      if (effect.type === 'transmit') queue.push({ to, run: () => channels[to].receive(effect.frame) });
      if (effect.type === 'request-handshake') {
        attempt += 1;
        const nonce = randomBytes(16);
        const granted = attempt;
        queue.push({ to: 0, run: () => channels[0].grant(granted, nonce) });
        queue.push({ to: 1, run: () => channels[1].grant(granted, nonce) });
      }
    }
  };
  handle(0, await channels[0].start('initiator'));
  handle(1, await channels[1].start('responder'));
  for (let steps = 0; queue.length > 0 && steps < 100; steps++) {
    const next = queue.shift();
    if (next) handle(next.to, await next.run());
  }
  if (!ready[0] || !ready[1]) throw new Error('modern handshake did not finish');
  return [channels[0], channels[1]];
}

/** Sends alternate sides: every message is a turn change, so a DH ratchet step. */
export function alternating(pair: [MessagePath, MessagePath]): () => Promise<void> {
  let turn = 0;
  return () => {
    turn += 1;
    return turn % 2 ? relayOne(pair[0], pair[1]) : relayOne(pair[1], pair[0]);
  };
}

/** `rounds` rounds of the three figures, `ms / rounds` each, in alternation. */
export async function measureRatchetRates(ms: number, rounds: number): Promise<RatchetRounds> {
  const result: RatchetRounds = { symmetric: [], sameTurn: [], turnChange: [] };
  for (let round = 0; round < rounds; round++) {
    const baseline = symmetricDirection();
    result.symmetric.push(await perSecond(() => relayOne(baseline, baseline), ms / rounds));
    const [alice, bob] = await modernPair();
    result.sameTurn.push(await perSecond(() => relayOne(alice, bob), ms / rounds));
    result.turnChange.push(await perSecond(alternating(await modernPair()), ms / rounds));
  }
  return result;
}
