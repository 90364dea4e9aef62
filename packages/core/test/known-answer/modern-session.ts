/**
 * A whole `modern` session with fixed randomness, recorded as a known-answer transcript: both
 * sides' random draws, every frame in order, every effect, and the values between them (sid,
 * ISK, the confirmation key and tags, the Double Ratchet's first secrets, every DH ratchet step,
 * and every message's chain, header and message keys).
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
import { chainStep, deriveSessionKeys, frameMac, rootStep } from '../../src/crypto/modern-keys.ts';
import { deriveSafetyCode } from '../../src/crypto/safety-code.ts';
import { unpad } from '../../src/crypto/padding.ts';
import { nobleX25519, publicKeyOf } from '../../src/crypto/x25519.ts';
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
  /** Who speaks, in order: each change of speaker is a DH ratchet step. */
  turns: [
    {
      from: 'initiator',
      texts: ['Hello from the initiator', 'a second message, longer than one 32-byte bucket'],
    },
    { from: 'responder', texts: ['Hi! from the responder', '\u00e9t\u00e9 \u2603'] },
    { from: 'initiator', texts: ['a third turn: the initiator ratchets too'] },
  ],
} as const;

/** The texts `from` sent, in order. */
export function textsFrom(from: Role): string[] {
  return INPUTS.turns.filter((turn) => turn.from === from).flatMap((turn) => [...turn.texts]);
}

export interface FrameRecord {
  from: Role;
  type: ModernFrame['type'];
  hex: string;
}

/** A DH ratchet step (the sending half of `by`; its partner runs the receiving half on it). */
export interface StepRecord {
  by: Role;
  /** The new key pair: the private key is one of `by`'s random draws. */
  private: string;
  public: string;
  /** The partner's ratchet public key it is combined with. */
  remote: string;
  dhOutput: string;
  rootBefore: string;
  /** KDF_RK's three outputs. */
  root: string;
  chain: string;
  nextHeader: string;
}

export interface MessageRecord {
  from: Role;
  /** Index of the frame in `frames`. */
  frame: number;
  /** The header: the sender's ratchet public key, the previous chain's length, the number. */
  dh: string;
  pn: number;
  n: number;
  /** The chain key this message's step starts from, and the chain's header key. */
  chainKey: string;
  headerKey: string;
  messageKey: string;
  mac: string;
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
  /** docs/security.md "Key schedule": the Double Ratchet's first secrets, from ISK and sid. */
  sessionKeys: {
    root: string;
    initiatorChain: string;
    initiatorHeader: string;
    initiatorNext: string;
    responderHeader: string;
    initiatorRatchet: string;
    initiatorRatchetPublic: string;
  };
  /** Every DH ratchet step, in the order of the frames that carried them. */
  steps: StepRecord[];
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
    // @noble/curves X25519 on the same fixed source: WebCrypto's would draw its own keys.
    initiator: createModernChannel({
      ...INPUTS,
      random: sides.initiator.random,
      x25519: nobleX25519(sides.initiator.random),
      now: () => 0,
    }),
    responder: createModernChannel({
      ...INPUTS,
      random: sides.responder.random,
      x25519: nobleX25519(sides.responder.random),
      now: () => 0,
    }),
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
  for (const { from, texts } of INPUTS.turns) {
    for (const text of texts) record(from, await channels[from].send(text));
    await deliver();
  }

  const fixture: Omit<ModernSessionFixture, keyof Derived> = {
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

type Derived = Pick<
  ModernSessionFixture,
  'cpace' | 'confirmation' | 'sessionKeys' | 'steps' | 'safetyCode' | 'messages'
>;

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
  const keys = deriveSessionKeys(isk, sid, 'initiator');
  const initiatorRatchetPublic = publicKeyOf(keys.initiatorRatchet);
  const safetyCode = [...deriveSafetyCode(isk, sid)];
  for (const role of ['initiator', 'responder'] as const) {
    const ready = session.effects[role].find((effect) => effect.type === 'ready');
    if (JSON.stringify(ready?.safetyCode) !== JSON.stringify(safetyCode))
      throw new Error(`the ${role}'s safety code disagrees with the derivation`);
  }

  // The Double Ratchet, replayed from the first secrets: each side's sending chain, and its next
  // header key (NHKs); the initiator starts on the chain both derived, the responder with none.
  interface Chain {
    dh: Uint8Array;
    key: Uint8Array;
    header: Uint8Array;
    n: number;
  }
  const sending: Record<Role, Chain | undefined> = {
    initiator: { dh: initiatorRatchetPublic, key: keys.initiatorChain, header: keys.initiatorHeader, n: 0 },
    responder: undefined,
  };
  const nextHeader: Record<Role, Uint8Array> = {
    initiator: keys.initiatorNext,
    responder: keys.responderHeader,
  };
  let root = keys.root;
  const steps: StepRecord[] = [];
  const messages: MessageRecord[] = [];
  // DH keys come from the 32-byte draws of each side, in order.
  const dhDraws = (role: Role) => session.random[role].filter((draw) => draw.length === 64);
  for (const [index, { from, frame }] of decoded.entries()) {
    if (frame.type !== 'message') continue;
    let chain = sending[from];
    if (chain === undefined || toHex(chain.dh) !== toHex(frame.dh)) {
      // A turn change: `from` made a new key pair and ratcheted on the partner's latest key.
      const other = from === 'initiator' ? 'responder' : 'initiator';
      const remote = sending[other]?.dh ?? initiatorRatchetPublic;
      const secret = dhDraws(from)[steps.filter((step) => step.by === from).length];
      if (secret === undefined) throw new Error(`no random draw left for a DH key of the ${from}`);
      check(`the ${from}'s new ratchet key`, frame.dh, publicKeyOf(fromHex(secret)));
      const dhOutput = await nobleX25519(() => fromHex(secret)).sharedSecret(
        { publicKey: frame.dh, privateKey: fromHex(secret) },
        remote,
      );
      const step = rootStep(root, dhOutput);
      steps.push({
        by: from,
        private: secret,
        public: toHex(frame.dh),
        remote: toHex(remote),
        dhOutput: toHex(dhOutput),
        rootBefore: toHex(root),
        root: toHex(step.root),
        chain: toHex(step.chain),
        nextHeader: toHex(step.nextHeader),
      });
      if (frame.pn !== (chain?.n ?? 0))
        throw new Error(`pn of frame ${index} is not the previous chain's length`);
      chain = { dh: frame.dh, key: step.chain, header: nextHeader[from], n: 0 };
      nextHeader[from] = step.nextHeader;
      root = step.root;
      sending[from] = chain;
    }
    if (frame.n !== chain.n) throw new Error(`frame ${index} is not number ${chain.n} of its chain`);
    const { messageKey, nextChain } = chainStep(chain.key);
    const header = messageHeader(frame);
    check(`the MAC of frame ${index}`, frame.mac, frameMac(chain.header, header, frame.ciphertext));
    const padded = await openOnce(messageKey.slice(), frame.n, header, frame.ciphertext);
    messages.push({
      from,
      frame: index,
      dh: toHex(frame.dh),
      pn: frame.pn,
      n: frame.n,
      chainKey: toHex(chain.key),
      headerKey: toHex(chain.header),
      messageKey: toHex(messageKey),
      mac: toHex(frame.mac),
      text: utf8DecodeStrict(unpad(padded)),
    });
    chain.key = nextChain;
    chain.n += 1;
  }
  for (const from of ['initiator', 'responder'] as const) {
    const texts = messages.filter((m) => m.from === from).map((m) => m.text);
    if (JSON.stringify(texts) !== JSON.stringify(textsFrom(from))) {
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
    sessionKeys: {
      root: toHex(keys.root),
      initiatorChain: toHex(keys.initiatorChain),
      initiatorHeader: toHex(keys.initiatorHeader),
      initiatorNext: toHex(keys.initiatorNext),
      responderHeader: toHex(keys.responderHeader),
      initiatorRatchet: toHex(keys.initiatorRatchet),
      initiatorRatchetPublic: toHex(initiatorRatchetPublic),
    },
    steps,
    safetyCode,
    messages,
  };
}

function check(what: string, actual: Uint8Array, expected: Uint8Array): void {
  if (toHex(actual) !== toHex(expected)) throw new Error(`${what} disagrees with the derivation`);
}
