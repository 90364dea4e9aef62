/**
 * Workload e: the suites' own cost, in this process, no network.
 *   des     key derivation (PBKDF2-HMAC-SHA256, 10,000 iterations); desEncrypt + desDecrypt of
 *           100-byte texts; MiB/s of desEncrypt and of desDecrypt on a 1 MiB text.
 *   modern  a full in-memory handshake (two channels, start to both ready); channel send +
 *           receive of 100-byte texts (ratchet step, AES-256-GCM, framing); MiB/s of the AEAD
 *           layer (crypto/aead.ts sealOnce / openOnce) on 1 MiB, since a channel caps texts at
 *           16 KiB.
 * Every loop stops at `ms` or at its iteration cap, whichever comes first.
 */
import { randomBytes as nodeRandomBytes } from 'node:crypto';
import { randomBytes } from '@duet/core/bytes';
import { openOnce, sealOnce } from '@duet/core/crypto/aead';
import { deriveDesKey, desDecrypt, desEncrypt, roomSalt } from '@duet/core/crypto/des-suite';
import { messageHeader } from '@duet/core/crypto/modern-frame';
import type { ChannelEffect, SecureChannel } from '@duet/core/session/channel';
import { createModernChannel } from '@duet/core/session/modern-channel';
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
    messagesPerSecond: number;
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

/** Two `modern` channels wired in memory, as the relay would; resolves once both are ready. */
async function modernPair(): Promise<[SecureChannel, SecureChannel]> {
  const channels = [
    createModernChannel({ passphrase: PASSPHRASE, room: ROOM }),
    createModernChannel({ passphrase: PASSPHRASE, room: ROOM }),
  ] as const;
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
  const [alice, bob] = await modernPair();
  const modernMessages = await perSecond(async () => {
    const [frame] = transmitted(await alice.send(TEXT_100));
    if (!frame) throw new Error('modern send produced no frame');
    const effects = await bob.receive(frame);
    if (!effects.some((effect) => effect.type === 'message'))
      throw new Error('modern receive lost the message');
  }, ms);

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
      messagesPerSecond: modernMessages,
      aeadSealMiBPerSecond: sealRate,
      aeadOpenMiBPerSecond: openRate,
    },
  };
}
