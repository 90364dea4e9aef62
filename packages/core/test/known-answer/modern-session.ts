/**
 * A whole `modern` session with fixed randomness, recorded as a known-answer transcript: both
 * sides' random draws, every frame in order, every effect, and the values between them (sid,
 * ISK, the confirmation key and tags, the chain keys, the message keys).
 *
 * `npm run fixtures` writes it to test/fixtures/modern-session.json; known-answer.test.ts runs
 * it again and compares, byte for byte. The session runs through the real channels
 * (createModernChannel); the values between the frames come from the crypto functions, and
 * every one of them is checked against the frames here, so a generated transcript always
 * describes what the code on the wire does. If a deliberate change breaks such a check, change
 * the derivation below together with docs/security.md and the independent checks in the test.
 */
import { sha512 } from '@noble/hashes/sha2.js';
import { fromHex, toHex, utf8DecodeStrict, utf8Encode } from '../../src/bytes.ts';
import { openOnce } from '../../src/crypto/aead.ts';
import {
  calculateGenerator,
  confirmationKey,
  confirmationTag,
  deriveIsk,
  sampleScalar,
  scalarMult,
  scalarMultVfy,
  transcriptIr,
} from '../../src/crypto/cpace.ts';
import { decodeFrame, messageHeader, type ModernFrame } from '../../src/crypto/modern-frame.ts';
import {
  AD_INITIATOR,
  AD_RESPONDER,
  channelIdentifier,
  passwordRelatedString,
  sessionId,
} from '../../src/crypto/modern-inputs.ts';
import { deriveChainKeys, ratchetStep } from '../../src/crypto/modern-keys.ts';
import { deriveSafetyCode } from '../../src/crypto/safety-code.ts';
import { unpad } from '../../src/crypto/padding.ts';
import type { Role } from '../../src/protocol/control.ts';
import type { ChannelEffect, SecureChannel } from '../../src/session/channel.ts';
import { createModernChannel } from '../../src/session/modern-channel.ts';

/** What the session is made of. Changing any of it changes every value after it. */
export const INPUTS = {
  // U+FB01 (the "fi" ligature) pins NFKC normalisation of the passphrase.
  passphrase: 'correct horse \ufb01sh battery',
  room: 'k3mq-8vth-x2pe',
  attempt: 1,
  relayNonce: '000102030405060708090a0b0c0d0e0f',
  messages: {
    initiator: ['Hello from the initiator', 'a second message, longer than one 32-byte bucket'],
    responder: ['Hi! from the responder', '\u00e9t\u00e9 \u2603'],
  },
} as const;

export interface FrameRecord {
  from: Role;
  type: ModernFrame['type'];
  hex: string;
}

export interface MessageRecord {
  from: Role;
  seq: number;
  /** Index of the frame in `frames`. */
  frame: number;
  messageKey: string;
  text: string;
}

export interface ModernSessionFixture {
  about: string;
  inputs: typeof INPUTS;
  /** Every call each side made to its random source, in order: hex of the bytes it got. */
  random: Record<Role, string[]>;
  /** Every frame on the wire, in the order the relay carried them. */
  frames: FrameRecord[];
  /** Every effect other than `transmit`, per side, in order. */
  effects: Record<Role, Exclude<ChannelEffect, { type: 'transmit' }>[]>;
  /** draft-irtf-cfrg-cpace-21 names (docs/security.md "CPace inputs", "Transcript, ISK and key confirmation"). */
  cpace: {
    PRS: string;
    CI: string;
    sid: string;
    g: string;
    ya: string;
    Ya: string;
    ADa: string;
    yb: string;
    Yb: string;
    ADb: string;
    K: string;
    transcript_ir: string;
    ISK: string;
  };
  confirmation: { macKey: string; Ta: string; Tb: string };
  /** docs/security.md "Key schedule": the first chain key of each direction, named by its sender. */
  chains: { initiator: string; responder: string };
  /** docs/security.md "Safety code": five word indices, shown on both pages. */
  safetyCode: number[];
  messages: MessageRecord[];
}

/** Fixed randomness: draw i of `side` is SHA-512("duet/known-answer/<side>/<i>/<block>") blocks, truncated. */
export function fixedRandom(side: Role): { random: (length: number) => Uint8Array; draws: string[] } {
  const draws: string[] = [];
  const random = (length: number): Uint8Array => {
    const out = new Uint8Array(length);
    for (let block = 0; block * 64 < length; block++) {
      const bytes = sha512(utf8Encode(`duet/known-answer/${side}/${draws.length}/${block}`));
      out.set(bytes.subarray(0, Math.min(64, length - block * 64)), block * 64);
    }
    draws.push(toHex(out));
    return out;
  };
  return { random, draws };
}

/** Runs the session and derives every value; throws if a derived value disagrees with the wire. */
export async function modernSession(): Promise<ModernSessionFixture> {
  const sides = { initiator: fixedRandom('initiator'), responder: fixedRandom('responder') };
  const channels: Record<Role, SecureChannel> = {
    initiator: createModernChannel({ ...INPUTS, random: sides.initiator.random }),
    responder: createModernChannel({ ...INPUTS, random: sides.responder.random }),
  };
  const frames: FrameRecord[] = [];
  const effects: ModernSessionFixture['effects'] = { initiator: [], responder: [] };
  const queue: { to: Role; frame: Uint8Array }[] = [];
  const peer = (role: Role): Role => (role === 'initiator' ? 'responder' : 'initiator');

  const record = (from: Role, produced: ChannelEffect[]): void => {
    for (const effect of produced) {
      if (effect.type !== 'transmit') {
        effects[from].push(effect);
        continue;
      }
      frames.push({ from, type: decodeFrame(effect.frame).type, hex: toHex(effect.frame) });
      queue.push({ to: peer(from), frame: effect.frame });
    }
  };
  const deliver = async (): Promise<void> => {
    for (let next = queue.shift(); next !== undefined; next = queue.shift()) {
      record(next.to, await channels[next.to].receive(next.frame));
    }
  };

  // The partner arrives; the initiator asks for an attempt; the relay grants it to both seats.
  record('initiator', await channels.initiator.start('initiator'));
  record('responder', await channels.responder.start('responder'));
  const relayNonce = fromHex(INPUTS.relayNonce);
  record('initiator', await channels.initiator.grant(INPUTS.attempt, relayNonce));
  record('responder', await channels.responder.grant(INPUTS.attempt, relayNonce));
  await deliver();
  for (const from of ['initiator', 'responder'] as const) {
    for (const text of INPUTS.messages[from]) record(from, await channels[from].send(text));
    await deliver();
  }

  const fixture: Omit<ModernSessionFixture, 'cpace' | 'confirmation' | 'chains' | 'safetyCode' | 'messages'> =
    {
      about:
        'Generated by `npm run fixtures` (packages/core/test/known-answer/modern-session.ts); ' +
        'checked by known-answer.test.ts. Do not edit: see test/fixtures/README.md.',
      inputs: INPUTS,
      random: { initiator: sides.initiator.draws, responder: sides.responder.draws },
      frames,
      effects,
    };
  return { ...fixture, ...(await derive(fixture)) };
}

type Derived = Pick<ModernSessionFixture, 'cpace' | 'confirmation' | 'chains' | 'safetyCode' | 'messages'>;

async function derive(
  session: Pick<ModernSessionFixture, 'random' | 'frames' | 'effects'>,
): Promise<Derived> {
  const decoded = session.frames.map((f) => ({ from: f.from, frame: decodeFrame(fromHex(f.hex)) }));
  const one = <T extends ModernFrame['type']>(from: Role, type: T): Extract<ModernFrame, { type: T }> => {
    const found = decoded.filter((d) => d.from === from && d.frame.type === type);
    if (found.length !== 1) throw new Error(`expected one ${type} from the ${from}, got ${found.length}`);
    return found[0]!.frame as Extract<ModernFrame, { type: T }>;
  };
  const helloA = one('initiator', 'hello');
  const helloB = one('responder', 'hello');
  const shareA = one('initiator', 'cpace-a');
  const shareB = one('responder', 'cpace-b');
  const confirm = one('initiator', 'confirm');

  const prs = passwordRelatedString(INPUTS.passphrase);
  const ci = channelIdentifier(INPUTS.room);
  const sid = sessionId(fromHex(INPUTS.relayNonce), helloA.nonce, helloB.nonce);
  const g = calculateGenerator(prs, ci, sid);
  // The scalar is the one 64-byte draw of each side, reduced as G.sample_scalar does.
  const scalarOf = (role: Role) => {
    const wide = session.random[role].filter((hex) => hex.length === 128);
    if (wide.length !== 1) throw new Error(`expected one 64-byte draw from the ${role}`);
    return sampleScalar(() => fromHex(wide[0]!));
  };
  const ya = scalarOf('initiator');
  const yb = scalarOf('responder');
  const Ya = scalarMult(ya, g);
  const Yb = scalarMult(yb, g);
  check('Ya on the wire', shareA.share, Ya);
  check('Yb on the wire', shareB.share, Yb);
  check('ADa on the wire', shareA.ad, AD_INITIATOR);
  check('ADb on the wire', shareB.ad, AD_RESPONDER);
  const k = scalarMultVfy(ya, Yb);
  check('K from both sides', scalarMultVfy(yb, Ya), k);
  const transcript = transcriptIr(Ya, AD_INITIATOR, Yb, AD_RESPONDER);
  const isk = deriveIsk(sid, k, transcript);
  const macKey = confirmationKey(sid, isk);
  const ta = confirmationTag(macKey, Ya, AD_INITIATOR);
  const tb = confirmationTag(macKey, Yb, AD_RESPONDER);
  check('Ta on the wire', confirm.tag, ta);
  check('Tb on the wire', shareB.tag, tb);
  const chains = deriveChainKeys(isk, sid);
  const safetyCode = [...deriveSafetyCode(isk, sid)];
  for (const role of ['initiator', 'responder'] as const) {
    const ready = session.effects[role].find((effect) => effect.type === 'ready');
    if (JSON.stringify(ready?.safetyCode) !== JSON.stringify(safetyCode))
      throw new Error(`the ${role}'s safety code disagrees with the derivation`);
  }

  const messages: MessageRecord[] = [];
  const chain: Record<Role, Uint8Array> = {
    initiator: chains.initiator.slice(),
    responder: chains.responder.slice(),
  };
  for (const [index, { from, frame }] of decoded.entries()) {
    if (frame.type !== 'message') continue;
    const step = ratchetStep(chain[from]);
    chain[from] = step.nextChain;
    const padded = await openOnce(
      step.messageKey.slice(),
      frame.seq,
      messageHeader(frame.seq),
      frame.ciphertext,
    );
    const text = utf8DecodeStrict(unpad(padded));
    messages.push({ from, seq: frame.seq, frame: index, messageKey: toHex(step.messageKey), text });
  }
  for (const from of ['initiator', 'responder'] as const) {
    const texts = messages.filter((m) => m.from === from).map((m) => m.text);
    if (JSON.stringify(texts) !== JSON.stringify(INPUTS.messages[from])) {
      throw new Error(`the ${from}'s frames do not decrypt to what it sent`);
    }
  }

  return {
    cpace: {
      PRS: toHex(prs),
      CI: toHex(ci),
      sid: toHex(sid),
      g: toHex(g),
      ya: toHex(ya),
      Ya: toHex(Ya),
      ADa: toHex(AD_INITIATOR),
      yb: toHex(yb),
      Yb: toHex(Yb),
      ADb: toHex(AD_RESPONDER),
      K: toHex(k),
      transcript_ir: toHex(transcript),
      ISK: toHex(isk),
    },
    confirmation: { macKey: toHex(macKey), Ta: toHex(ta), Tb: toHex(tb) },
    chains: { initiator: toHex(chains.initiator), responder: toHex(chains.responder) },
    safetyCode,
    messages,
  };
}

function check(what: string, actual: Uint8Array, expected: Uint8Array): void {
  if (toHex(actual) !== toHex(expected)) throw new Error(`${what} disagrees with the derivation`);
}
