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
import { concatBytes, randomBytes } from '@duet/core/bytes';
import { openOnce, sealOnce } from '@duet/core/crypto/aead';
import { deriveDesKey, desDecrypt, desEncrypt, roomSalt } from '@duet/core/crypto/des-suite';
import { messageHeader } from '@duet/core/crypto/modern-frame';
import { nobleX25519 } from '@duet/core/crypto/x25519';
import { Samples } from '../stats.ts';
import { runCryptoInBrowser, type BrowserRates } from './crypto-browser.ts';
import {
  alternating,
  MAX_ITERATIONS,
  measureRatchetRates,
  median,
  modernPair,
  perSecond,
} from './ratchet-rates.ts';

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
    /** The three message figures again, in Chromium (where the product runs), same rounds. */
    inBrowser: BrowserRates;
  };
}

const PASSPHRASE = 'correct horse battery staple';
const ROOM = 'bench-crypto';
const TEXT_100 = 'x'.repeat(100);
const MIB = 1024 * 1024;
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
  const rounds = await measureRatchetRates(ms, ROUNDS);
  const nobleTurnChange = await perSecond(
    alternating(await modernPair(nobleX25519(randomBytes))),
    ms / ROUNDS,
    MAX_ITERATIONS,
    20,
  );

  const aeadKey = randomBytes(32);
  const header = messageHeader({ dh: new Uint8Array(32), pn: 0, n: 0 });
  const bigPlain = new Uint8Array(nodeRandomBytes(MIB)); // WebCrypto's getRandomValues stops at 64 KiB
  const sealed = concatBytes(...(await sealOnce(aeadKey.slice(), 0, header, bigPlain)));
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
      inBrowser: await runCryptoInBrowser(ms, ROUNDS),
    },
  };
}
