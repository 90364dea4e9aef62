/**
 * Workload e: the suites' own cost, in this process, no network.
 *   des     key derivation (PBKDF2-HMAC-SHA256, 10,000 iterations); desEncrypt + desDecrypt of
 *           100-byte texts; MiB/s of desEncrypt and of desDecrypt on a 1 MiB text.
 *   modern  a full in-memory handshake (two channels, start to both ready); channel send +
 *           receive of 100-byte texts with the Double Ratchet, all from one side (no turn
 *           change: chain steps only) and alternating sides (a DH ratchet step at every
 *           message), beside the symmetric ratchet it replaced (baselines/symmetric-ratchet.ts),
 *           measured in alternation in the same run; the turn-change figure again with
 *           @noble/curves' X25519 (browsers without WebCrypto X25519); MiB/s of the AEAD layer
 *           (crypto/aead.ts sealOnce / openOnce) on 1 MiB, since a channel caps texts at 16 KiB.
 * Every loop stops at `ms` or at its iteration cap, whichever comes first.
 */
import { randomBytes as nodeRandomBytes } from 'node:crypto';
import { randomBytes } from '@duet/core/bytes';
import { openOnce, sealOnce } from '@duet/core/crypto/aead';
import { deriveDesKey, desDecrypt, desEncrypt, roomSalt } from '@duet/core/crypto/des-suite';
import { messageHeader } from '@duet/core/crypto/modern-frame';
import type { ChannelEffect, SecureChannel } from '@duet/core/session/channel';
import { nobleX25519, type X25519 } from '@duet/core/crypto/x25519';
import { createModernChannel } from '@duet/core/session/modern-channel';
import { symmetricDirection, type MessagePath } from '../baselines/symmetric-ratchet.ts';
import { Samples } from '../stats.ts';

export interface CryptoResult {
  des: {
    keyDerivationMs: number;
    messagesPerSecond: number;
    encryptMiBPerSecond: number;
    decryptMiBPerSecond: number;
  };
  modern: {
    handshakeMs: number;
    /** The symmetric ratchet of version 1 (baseline), 100-byte texts, send + receive. */
    symmetricMessagesPerSecond: number;
    /** The Double Ratchet, every message from the same side: no DH. */
    messagesPerSecond: number;
    /** The Double Ratchet, sides alternating: a DH ratchet step at every message. */
    turnChangeMessagesPerSecond: number;
    /** The same with @noble/curves' X25519 instead of WebCrypto's. */
    turnChangeNobleMessagesPerSecond: number;
    /** Median of the rounds above, and their spread (min, max), per figure. */
    rounds: { symmetric: number[]; sameTurn: number[]; turnChange: number[] };
    /** AES-256-GCM through crypto/aead.ts on 1 MiB, not the channel (which caps texts at 16 KiB). */
    aeadSealMiBPerSecond: number;
    aeadOpenMiBPerSecond: number;
  };
}

const PASSPHRASE = 'correct horse battery staple';
const ROOM = 'bench-crypto';
const TEXT_100 = 'x'.repeat(100);
const MIB = 1024 * 1024;
const MAX_ITERATIONS = 1_000_000;
/** The three message figures are measured in this many alternating rounds each. */
const ROUNDS = 5;

/** Runs `step` until `ms` pass or `max` iterations; returns the p50 time of one call, in ms. */
async function medianMs(step: () => Promise<unknown>, ms: number, max = 200, min = 3): Promise<number> {
  const samples = new Samples();
  const until = performance.now() + ms;
  while (samples.count < max && (samples.count < min || performance.now() < until)) {
    const started = performance.now();
    await step();
    samples.add(performance.now() - started);
  }
  return samples.percentiles(50)[0] ?? Number.NaN;
}

/** Calls of `step` per second over `ms` (at least `min` calls, at most `max`). */
async function perSecond(step: () => unknown, ms: number, max = MAX_ITERATIONS, min = 3): Promise<number> {
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

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle]! : ((sorted[middle - 1] ?? 0) + (sorted[middle] ?? 0)) / 2;
}

/** Two `modern` channels wired in memory, as the relay would; resolves once both are ready. */
async function modernPair(x25519?: X25519): Promise<[SecureChannel, SecureChannel]> {
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

export async function runCrypto(ms: number): Promise<CryptoResult> {
  const salt = await roomSalt(ROOM);
  const keyDerivationMs = await medianMs(() => deriveDesKey(PASSPHRASE, salt), ms);
  const desKey = await deriveDesKey(PASSPHRASE, salt);
  const desMessages = await perSecond(() => desDecrypt(desKey, desEncrypt(desKey, TEXT_100)), ms);
  const bigText = 'x'.repeat(MIB);
  const bigFrame = desEncrypt(desKey, bigText);
  const desEncryptRate = await perSecond(() => desEncrypt(desKey, bigText), ms, 100, 2);
  const desDecryptRate = await perSecond(() => desDecrypt(desKey, bigFrame), ms, 100, 2);

  const handshakeMs = await medianMs(() => modernPair(), ms);
  // Rounds in alternation, so that the machine's load drifts over all three alike.
  const rounds = { symmetric: [] as number[], sameTurn: [] as number[], turnChange: [] as number[] };
  for (let round = 0; round < ROUNDS; round++) {
    const baseline = symmetricDirection();
    rounds.symmetric.push(await perSecond(() => relayOne(baseline, baseline), ms / ROUNDS));
    const [alice, bob] = await modernPair();
    rounds.sameTurn.push(await perSecond(() => relayOne(alice, bob), ms / ROUNDS));
    const pair = await modernPair();
    let turn = 0;
    rounds.turnChange.push(
      await perSecond(() => {
        turn += 1;
        return turn % 2 ? relayOne(pair[0], pair[1]) : relayOne(pair[1], pair[0]);
      }, ms / ROUNDS),
    );
  }
  const noble = await modernPair(nobleX25519(randomBytes));
  let nobleTurn = 0;
  const nobleTurnChange = await perSecond(
    () => {
      nobleTurn += 1;
      return nobleTurn % 2 ? relayOne(noble[0], noble[1]) : relayOne(noble[1], noble[0]);
    },
    ms / ROUNDS,
    MAX_ITERATIONS,
    20,
  );

  const aeadKey = randomBytes(32);
  const header = messageHeader({ dh: new Uint8Array(32), pn: 0, n: 0 });
  const bigPlain = new Uint8Array(nodeRandomBytes(MIB)); // WebCrypto's getRandomValues stops at 64 KiB
  const sealed = await sealOnce(aeadKey.slice(), 0, header, bigPlain);
  const sealRate = await perSecond(() => sealOnce(aeadKey.slice(), 0, header, bigPlain), ms, 1_000);
  const openRate = await perSecond(() => openOnce(aeadKey.slice(), 0, header, sealed), ms, 1_000);

  return {
    des: {
      keyDerivationMs,
      messagesPerSecond: desMessages,
      encryptMiBPerSecond: desEncryptRate,
      decryptMiBPerSecond: desDecryptRate,
    },
    modern: {
      handshakeMs,
      symmetricMessagesPerSecond: median(rounds.symmetric),
      messagesPerSecond: median(rounds.sameTurn),
      turnChangeMessagesPerSecond: median(rounds.turnChange),
      turnChangeNobleMessagesPerSecond: nobleTurnChange,
      rounds,
      aeadSealMiBPerSecond: sealRate,
      aeadOpenMiBPerSecond: openRate,
    },
  };
}
