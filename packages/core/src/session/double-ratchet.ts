/**
 * The `modern` suite's message layer: the Double Ratchet (Perrin & Marlinspike, revision 1), with
 * the header keys of §4 used to authenticate each whole frame rather than to encrypt its header.
 * Section numbers below are the specification's; docs/security.md draws the key schedule.
 *
 * - Every frame carries the sender's ratchet public key (dh), the length of its previous sending
 *   chain (pn) and its number in this one (n). It ends with a MAC under the chain's header key.
 * - Receiving, the dh names the chain: the current receiving chain, an earlier one still
 *   remembered, or else a new one, whose header key (NHKr) both sides derived at the previous
 *   root step. One MAC check decides whether the frame is the partner's. Nothing else is spent on
 *   a frame that fails it: no chain step, no DH, no AEAD. So a forged frame costs one HMAC.
 * - A frame on a new chain is a turn change: a DH ratchet step (§3.5). Its receiving half runs at
 *   once; the sending half, a new key pair, runs when this side next sends (§6.5), so the private
 *   key of the previous step is erased as soon as it has done its work.
 * - The partner can start a new chain only on a public key of ours it has seen, so while our
 *   sending half is pending, a frame claiming a new chain is refused without any work.
 * - Keys of frames stepped over are kept, within bounds (session/skipped-keys.ts), so that frames
 *   delayed or reordered within that window still open, once. An authentic frame too far ahead
 *   moves its chain forward without being opened, so that a long loss never wedges a chain.
 * - Texts travel in `message` frames, binary payloads (file chunks) in `data` frames: the same
 *   header, chain and MAC; the type byte is in the associated data, so neither passes for the other.
 * - Nothing changes until a frame authenticated (its MAC, then its AEAD; for a frame out of
 *   reach, its MAC): every step is computed on candidates and committed at once on success.
 *
 * - destroy() may come while a frame is being opened or sealed (the channel is reset meanwhile):
 *   that frame then opens or seals nothing, what it computed is wiped, and the erased state is
 *   never written to again.
 *
 * Pure: time is passed in; randomness lives in the X25519 source passed in (crypto/x25519.ts).
 */
import { equalBytes, toHex, utf8DecodeStrict, utf8Encode, wipe } from '../bytes.ts';
import { openOnce, sealOnce } from '../crypto/aead.ts';
import {
  encodePayloadFrame,
  MAX_MESSAGE_NUMBER,
  messageHeader,
  type MessageFrame,
  type PayloadType,
} from '../crypto/modern-frame.ts';
import { webCryptoFrames, type FrameCrypto } from '../crypto/frame-crypto.ts';
import { frameMacMatches, frameMacOf } from '../crypto/frame-mac.ts';
import { advanceChain, chainStep, rootStep, type SessionKeys } from '../crypto/modern-keys.ts';
import { MAX_DATA_BYTES, MAX_DATA_PADDED_BYTES, MAX_TEXT_BYTES, pad, unpad } from '../crypto/padding.ts';
import type { DhPrivateKey, X25519 } from '../crypto/x25519.ts';
import { duetError, isDuetError, type ErrorCode } from '../errors.ts';
import type { ChannelEffect, Payload } from './channel.ts';
import { initialState, type RatchetState, type ReceivingChain, type SendingChain } from './ratchet-state.ts';
import {
  dropChain,
  expireSkipped,
  storeSkipped,
  takeSkipped,
  wipeSkipped,
  type SkippedBounds,
} from './skipped-keys.ts';
import { WorkBudget } from './work-budget.ts';

export type { RatchetState } from './ratchet-state.ts';

/**
 * The furthest a frame may be ahead of the next expected message of its chain and still open
 * (§3.1); a frame further ahead moves the chain this far (see catchUp). Only a frame whose MAC
 * verified gets that far, so this bounds what the partner can make us compute per frame (at
 * most 1,100 HMACs), not what a forger can.
 */
export const MAX_SKIP = 1000;
/** Skipped message keys kept per chain (the latest ones) and in all (§6.4). */
export const MAX_SKIPPED_PER_CHAIN = 100;
export const MAX_SKIPPED_KEYS = 200;
/** How long a skipped key, or an earlier chain, is kept (§6.4): beyond any retransmission delay. */
export const SKIPPED_KEY_TTL_MS = 120_000;
/** Earlier receiving chains remembered (for their late frames, and to tell replays apart). */
export const MAX_PREVIOUS_CHAINS = 4;
/** Chain steps spent on skipping per second, and at once: what a misbehaving partner can cost. */
export const SKIP_BUDGET_PER_SECOND = 1000;
export const SKIP_BUDGET_BURST = 2 * MAX_SKIP;

const BOUNDS: SkippedBounds = {
  perChain: MAX_SKIPPED_PER_CHAIN,
  total: MAX_SKIPPED_KEYS,
  ttlMs: SKIPPED_KEY_TTL_MS,
};

/** A message or data frame being opened, with its header's bytes (the AEAD's associated data). */
type Received = MessageFrame & { header: Uint8Array };

/** What the ratchet has computed so far, for tests that bound the work a frame can cost. */
export interface RatchetWork {
  macChecks: number;
  chainSteps: number;
  dhOperations: number;
  aeadOpens: number;
}

export interface DoubleRatchet {
  /** Pads and encrypts one message at time `now` (ms); returns the whole frame. Throws `bad-input`. */
  seal(text: string, now: number): Promise<Uint8Array>;
  /**
   * Pads and encrypts one binary payload (at most MAX_DATA_BYTES) at time `now` as a `data` frame;
   * the partner's ratchet gives it back as a `data` effect. Throws `bad-input`.
   */
  sealData(bytes: Payload, now: number): Promise<Uint8Array>;
  /**
   * Opens one decoded message or data frame at time `now`; never throws: refusals are `warning`
   * effects.
   */
  open(frame: MessageFrame, now: number): Promise<ChannelEffect[]>;
  /** A deep copy of the whole state. */
  snapshot(): RatchetState;
  readonly work: Readonly<RatchetWork>;
  /** Erases every key; the ratchet is unusable afterwards. */
  destroy(): void;
}

/** The first ratchet of a session, from its keys (consumed: wiped or taken over). */
export async function createDoubleRatchet(
  keys: SessionKeys,
  x25519: X25519,
  frames: FrameCrypto = webCryptoFrames,
): Promise<DoubleRatchet> {
  return restoreDoubleRatchet(await initialState(keys, x25519), x25519, frames);
}

/** A ratchet that goes on from `state` (taken over, not copied). */
export function restoreDoubleRatchet(
  state: RatchetState,
  x25519: X25519,
  frames: FrameCrypto = webCryptoFrames,
): DoubleRatchet {
  const work: RatchetWork = { macChecks: 0, chainSteps: 0, dhOperations: 0, aeadOpens: 0 };
  const budget = new WorkBudget(SKIP_BUDGET_BURST, SKIP_BUDGET_PER_SECOND);
  let destroyed = false;
  /**
   * Where a payload is padded, reused from one seal to the next rather than a fresh 60 KiB array
   * per file chunk: every large short-lived array adds to the full collections a transfer costs
   * (docs/benchmarks.md). sealPadded wipes what it used; a seal that finds it taken (two at
   * once) pads into a new array.
   */
  let padScratch: Uint8Array | undefined;
  const warn = (code: ErrorCode): ChannelEffect[] => [{ type: 'warning', code }];

  /** Erases skipped keys and earlier chains past their time. */
  function expire(now: number): void {
    // Stryker disable next-line ConditionalExpression,EqualityOperator: equivalent: expiring an empty store does nothing; the check skips the call
    if (state.skipped.size > 0) expireSkipped(state.skipped, now, SKIPPED_KEY_TTL_MS);
    // Stryker disable next-line ConditionalExpression: equivalent: filtering no chains does nothing; the check skips the work
    if (state.previous.length === 0) return;
    state.previous = state.previous.filter((chain) => {
      const keep = now - (chain.retiredAt ?? now) < SKIPPED_KEY_TTL_MS;
      if (!keep) forget(chain);
      return keep;
    });
  }

  function forget(chain: ReceivingChain): void {
    dropChain(state.skipped, chain.id);
    wipe(chain.headerKey);
  }

  /**
   * Steps `chainKey` (not modified) from message `from` up to `until`: returns the chain key at
   * `until` and the message keys of the last MAX_SKIPPED_PER_CHAIN numbers before it.
   */
  function walk(chainKey: Uint8Array, from: number, until: number) {
    const skipped: { n: number; key: Uint8Array }[] = [];
    let chain: Uint8Array = chainKey.slice();
    for (let n = from; n < until; n++) {
      work.chainSteps += 1;
      if (until - n > MAX_SKIPPED_PER_CHAIN) {
        const next = advanceChain(chain);
        wipe(chain);
        chain = next;
        continue;
      }
      const step = chainStep(chain);
      wipe(chain);
      chain = step.nextChain;
      skipped.push({ n, key: step.messageKey });
    }
    return { chain, skipped };
  }

  /** The message key of the frame at the end of a walk, and the chain key after it. */
  function messageStep(chain: Uint8Array): { messageKey: Uint8Array; nextChain: Uint8Array } {
    work.chainSteps += 1;
    const step = chainStep(chain);
    wipe(chain);
    return step;
  }

  function macValid(headerKey: Uint8Array, frame: Received): Promise<boolean> {
    work.macChecks += 1;
    return frameMacMatches(headerKey, frame.header, frame.ciphertext, frame.mac, frames);
  }

  /** Decrypts; undefined when the AEAD refuses. Consumes `messageKey`. */
  async function decrypt(messageKey: Uint8Array, frame: Received): Promise<Uint8Array | undefined> {
    work.aeadOpens += 1;
    try {
      return await openOnce(messageKey, frame.n, frame.header, frame.ciphertext, frames);
    } catch (error) {
      if (isDuetError(error, 'tampered')) return undefined;
      throw error;
    }
  }

  function findChain(dh: Uint8Array): ReceivingChain | undefined {
    if (state.receiving && equalBytes(state.receiving.dh, dh)) return state.receiving;
    return state.previous.find((chain) => equalBytes(chain.dh, dh));
  }

  /** A frame on a chain we know: a stored key, the next ones of the current chain, or a replay. */
  async function openKnown(chain: ReceivingChain, frame: Received, now: number) {
    if (!(await macValid(chain.headerKey, frame))) return warn('tampered');
    if (destroyed) return [];
    const id = chain.id;
    const stored = state.skipped.get(id)?.get(frame.n);
    if (stored) {
      const plain = await decrypt(stored.key.slice(), frame);
      if (destroyed) return erased([plain]);
      if (plain === undefined) return warn('tampered'); // the key stays, with its time
      const key = takeSkipped(state.skipped, id, frame.n);
      if (key) wipe(key);
      return deliver(plain, frame.type);
    }
    // Already opened, given up on, or past the end of a retired chain: each opens once at most.
    if (chain !== state.receiving || chain.chainKey === undefined || frame.n < chain.next)
      return warn('replayed');
    const steps = frame.n - chain.next;
    if (steps > MAX_SKIP) return catchUp(chain, chain.chainKey, now);
    // Stryker disable next-line ConditionalExpression,EqualityOperator: equivalent: spending nothing always succeeds and changes nothing (work-budget.ts)
    if (steps > 0 && !budget.spend(steps, now)) return warn('rate-limited');
    const walked = walk(chain.chainKey, chain.next, frame.n);
    const { messageKey, nextChain } = messageStep(walked.chain);
    const plain = await decrypt(messageKey, frame);
    if (destroyed || plain === undefined) {
      wipe(nextChain);
      for (const { key } of walked.skipped) wipe(key);
      return destroyed ? erased([plain]) : warn('tampered');
    }
    wipe(chain.chainKey);
    chain.chainKey = nextChain;
    chain.next = frame.n + 1;
    storeSkipped(state.skipped, id, walked.skipped, now, BOUNDS);
    return deliver(plain, frame.type);
  }

  /** Steps `chainKey` (not modified) `count` times, keeping no message key. */
  function advance(chainKey: Uint8Array, count: number): Uint8Array {
    let chain: Uint8Array = chainKey.slice();
    for (let i = 0; i < count; i++) {
      work.chainSteps += 1;
      const next = advanceChain(chain);
      wipe(chain);
      chain = next;
    }
    return chain;
  }

  /**
   * An authentic frame out of reach: more than MAX_SKIP frames of its chain were lost before
   * it. Its message cannot be opened now (the delivery layer sends it again), but its MAC proves
   * the partner got that far, so the chain moves MAX_SKIP forward, keeping no keys. Without this,
   * every later frame of the chain would be further still, and refused for ever.
   */
  function catchUp(chain: ReceivingChain, chainKey: Uint8Array, now: number): ChannelEffect[] {
    if (!budget.spend(MAX_SKIP, now)) return warn('rate-limited');
    const next = advance(chainKey, MAX_SKIP);
    wipe(chainKey);
    chain.chainKey = next;
    chain.next += MAX_SKIP;
    return [];
  }

  /** A frame that starts a new chain: the receiving half of a DH ratchet step (§3.5). */
  async function openNewChain(frame: Received, now: number) {
    // The partner can only have ratcheted onto a key of ours it has seen in a frame.
    const self = state.self;
    if (state.sending === undefined || self === undefined) return warn('tampered');
    if (!(await macValid(state.nextReceivingHeaderKey, frame))) return warn('tampered');
    if (destroyed) return [];
    const current = state.receiving;
    // The rest of the current chain, up to pn: its keys are kept for late frames if in reach.
    const tail =
      // Stryker disable next-line EqualityOperator: equivalent: at pn = next the tail is 0 either way
      current?.chainKey !== undefined && frame.pn > current.next && frame.pn - current.next <= MAX_SKIP
        ? frame.pn - current.next
        : 0;
    const reach = Math.min(frame.n, MAX_SKIP);
    // Stryker disable next-line ConditionalExpression,EqualityOperator: equivalent: spending nothing always succeeds and changes nothing (work-budget.ts)
    if (tail + reach > 0 && !budget.spend(tail + reach, now)) return warn('rate-limited');

    let shared: Uint8Array;
    try {
      work.dhOperations += 1;
      shared = await x25519.sharedSecret(self, frame.dh);
    } catch (error) {
      if (isDuetError(error, 'bad-point')) return warn('tampered');
      throw error;
    }
    if (destroyed) return erased([shared]);
    const step = rootStep(state.root, shared);
    wipe(shared);
    const retired =
      current?.chainKey && tail > 0 ? walk(current.chainKey, current.next, frame.pn) : undefined;
    if (frame.n > MAX_SKIP) {
      // Out of reach on its new chain (see catchUp): the DH step, and MAX_SKIP steps of it.
      const chainKey = advance(step.chain, MAX_SKIP);
      wipe(step.chain);
      turn({ frame, step, chainKey, next: MAX_SKIP, retired, skipped: [], now });
      return [];
    }
    const walked = walk(step.chain, 0, frame.n);
    wipe(step.chain);
    const { messageKey, nextChain } = messageStep(walked.chain);
    const plain = await decrypt(messageKey, frame);
    if (destroyed || plain === undefined) {
      for (const key of [step.root, step.nextHeader, nextChain, retired?.chain]) if (key) wipe(key);
      for (const { key } of [...(retired?.skipped ?? []), ...walked.skipped]) wipe(key);
      return destroyed ? erased([plain]) : warn('tampered');
    }
    turn({ frame, step, chainKey: nextChain, next: frame.n + 1, retired, skipped: walked.skipped, now });
    return deliver(plain, frame.type);
  }

  /**
   * Commits the receiving half of a DH step: the current chain retires (its keys up to pn kept),
   * the new one becomes current, the root moves on, and our key pair, its work done, is erased.
   */
  function turn(change: {
    frame: Received;
    step: { root: Uint8Array; nextHeader: Uint8Array };
    chainKey: Uint8Array;
    next: number;
    retired: { chain: Uint8Array; skipped: { n: number; key: Uint8Array }[] } | undefined;
    skipped: { n: number; key: Uint8Array }[];
    now: number;
  }): void {
    const { frame, step, retired, now } = change;
    const current = state.receiving;
    if (current) {
      if (current.chainKey) wipe(current.chainKey);
      current.chainKey = undefined;
      if (retired) {
        wipe(retired.chain);
        current.next = frame.pn;
        storeSkipped(state.skipped, current.id, retired.skipped, now, BOUNDS);
      }
      current.retiredAt = now;
      state.previous.unshift(current);
      for (const dropped of state.previous.splice(MAX_PREVIOUS_CHAINS)) forget(dropped);
    }
    const dh = frame.dh.slice();
    state.receiving = {
      dh,
      id: toHex(dh),
      headerKey: state.nextReceivingHeaderKey,
      chainKey: change.chainKey,
      next: change.next,
    };
    storeSkipped(state.skipped, state.receiving.id, change.skipped, now, BOUNDS);
    wipe(state.root);
    state.root = step.root;
    state.nextReceivingHeaderKey = step.nextHeader;
    state.remote = frame.dh.slice();
    // Our key pair has done its work: erase it now; the sending half waits for our next frame.
    if (state.sending) {
      state.sentOnPrevious = state.sending.n;
      wipe(state.sending.chainKey);
      wipe(state.sending.headerKey);
    }
    state.sending = undefined;
    if (state.self?.privateKey instanceof Uint8Array) wipe(state.self.privateKey);
    state.self = undefined;
  }

  /** The sending half of a DH ratchet step: a new key pair, and a new sending chain (§3.5). */
  async function sendingHalf(remote: Uint8Array): Promise<SendingChain> {
    work.dhOperations += 2;
    const self = await x25519.generate();
    if (destroyed) throw erasedError([self.privateKey]);
    const shared = await x25519.sharedSecret(self, remote);
    if (destroyed) throw erasedError([self.privateKey, shared]);
    const step = rootStep(state.root, shared);
    wipe(shared);
    wipe(state.root);
    state.root = step.root;
    state.self = self;
    const sending = {
      chainKey: step.chain,
      headerKey: state.nextSendingHeaderKey,
      n: 0,
      pn: state.sentOnPrevious,
    };
    state.nextSendingHeaderKey = step.nextHeader;
    state.sending = sending;
    return sending;
  }

  /** Seals one padded payload (consumed) on the sending chain, its half of a DH step first if due. */
  async function sealPadded(type: PayloadType, padded: Uint8Array, now: number): Promise<Uint8Array> {
    try {
      expire(now);
      const remote = state.remote;
      let sending = state.sending;
      if (sending === undefined) {
        if (remote === undefined) throw duetError('no-partner', 'no ratchet key to send to');
        sending = await sendingHalf(remote);
      }
      const self = state.self;
      if (self === undefined) throw duetError('no-partner', 'no ratchet key pair');
      if (sending.n > MAX_MESSAGE_NUMBER) throw duetError('bad-input', 'sending chain exhausted');
      const header = { type, dh: self.publicKey, pn: sending.pn, n: sending.n };
      work.chainSteps += 1;
      const { messageKey, nextChain } = chainStep(sending.chainKey);
      const headerBytes = messageHeader(header);
      const ciphertext = await sealOnce(messageKey, sending.n, headerBytes, padded, frames);
      if (destroyed) throw erasedError([nextChain]);
      const mac = await frameMacOf(sending.headerKey, headerBytes, ciphertext, frames);
      if (destroyed) throw erasedError([nextChain]);
      wipe(sending.chainKey);
      sending.chainKey = nextChain;
      sending.n += 1;
      return encodePayloadFrame(header, ciphertext, mac);
    } finally {
      wipe(padded); // sealed or not, the plaintext goes
    }
  }

  /**
   * destroy() ran while a frame was being opened: what that frame had computed is wiped, and it
   * opens nothing; the erased state is never written to again.
   */
  function erased(computed: (Uint8Array | undefined)[]): ChannelEffect[] {
    for (const bytes of computed) if (bytes) wipe(bytes);
    return [];
  }

  /** The same for a seal: its keys are wiped, and it fails as a seal on an erased ratchet does. */
  function erasedError(computed: (DhPrivateKey | undefined)[]): Error {
    for (const key of computed) if (key instanceof Uint8Array) wipe(key);
    return duetError('no-partner', 'the session keys were erased');
  }

  function deliver(padded: Uint8Array, type: PayloadType): ChannelEffect[] {
    let handedOver = false;
    try {
      if (type === 'data') {
        // A payload is handed over as a view of the padded plaintext, not wiped: the caller owns
        // it (a file chunk, kept until stored). A copy would cost as much memory for as long,
        // and one more large allocation per chunk (docs/benchmarks.md, workload h).
        const bytes = unpad(padded, MAX_DATA_BYTES);
        handedOver = true;
        return [{ type: 'data', bytes }];
      }
      return [{ type: 'message', text: utf8DecodeStrict(unpad(padded, MAX_TEXT_BYTES)) }];
    } catch {
      // Authentic, so the partner really sent it: its keys are spent either way.
      return [{ type: 'warning', code: 'bad-frame' }];
    } finally {
      if (!handedOver) wipe(padded); // a text's plaintext goes once decoded
    }
  }

  return {
    work,

    async seal(text, now) {
      if (destroyed) throw duetError('no-partner', 'the session keys were erased');
      // TextEncoder would silently turn a lone surrogate into U+FFFD: refuse instead.
      if (/\p{Cs}/u.test(text)) throw duetError('bad-input', 'text is not well-formed Unicode');
      return sealPadded('message', pad(utf8Encode(text)), now);
    },

    async sealData(bytes, now) {
      if (destroyed) throw duetError('no-partner', 'the session keys were erased');
      const scratch = padScratch ?? new Uint8Array(MAX_DATA_PADDED_BYTES);
      padScratch = undefined;
      try {
        return await sealPadded('data', pad(bytes, MAX_DATA_BYTES, scratch), now);
      } finally {
        padScratch = scratch; // wiped by sealPadded
      }
    },

    async open(message, now) {
      if (destroyed) return [];
      expire(now);
      const frame: Received = { ...message, header: messageHeader(message) };
      const chain = findChain(frame.dh);
      return chain ? openKnown(chain, frame, now) : openNewChain(frame, now);
    },

    snapshot() {
      return structuredClone(state);
    },

    destroy() {
      if (destroyed) return;
      destroyed = true;
      wipe(state.root);
      wipe(state.nextSendingHeaderKey);
      wipe(state.nextReceivingHeaderKey);
      if (state.self?.privateKey instanceof Uint8Array) wipe(state.self.privateKey);
      if (state.sending) {
        wipe(state.sending.chainKey);
        wipe(state.sending.headerKey);
      }
      for (const chain of [state.receiving, ...state.previous]) {
        if (chain?.chainKey) wipe(chain.chainKey);
        if (chain) wipe(chain.headerKey);
      }
      wipeSkipped(state.skipped);
    },
  };
}
