/**
 * The `modern` suite's handshake machine: relay-granted attempts, CPace in the initiator/responder
 * setting (draft-irtf-cfrg-cpace-21 §7), explicit key confirmation (§10.4), then the Double
 * Ratchet's first keys.
 * Pure: it takes events, returns effects, and never does I/O; randomness is passed in.
 *
 *   relay → both:   grant(attempt, relay nonce)
 *   A ↔ B:          hello(attempt, client nonce)          (each side, on its grant)
 *   both:           sid = SHA-512(lv_cat("duet/sid", relay nonce, nonce_A, nonce_B))[0..16]
 *   A → B:          cpace-a(attempt, Ya, ADa)
 *   B → A:          cpace-b(attempt, Yb, ADb, Tb)          B holds ISK, no message key yet
 *   A → B:          confirm(attempt, Ta)                   A checked Tb: ready
 *                   B checks Ta: ready
 *   on a bad tag:   abort(attempt, passphrase-mismatch)   both sides emit failed
 *
 * Phases are named for what this side knows. A failure sticks to the passphrase, not to the
 * session: `failed` absorbs input (grants are stored, the partner's hello for one is buffered)
 * until `retry`, and survives `reset`. So does an attempt abandoned after this side's tag went
 * out (`awaitingConfirm` left without a valid Ta): whoever took part in it got one guess. Each
 * online guess, even by a malicious relay, therefore costs a user action.
 */
import { equalBytes, wipe } from '../bytes.ts';
import {
  calculateGenerator,
  confirmationKey,
  confirmationTag,
  deriveIsk,
  sampleScalar,
  scalarMult,
  scalarMultVfy,
  transcriptIr,
} from '../crypto/cpace.ts';
import { encodeFrame, type AbortReason, type HandshakeFrame, NONCE_BYTES } from '../crypto/modern-frame.ts';
import {
  AD_INITIATOR,
  AD_RESPONDER,
  channelIdentifier,
  checkPassphrase,
  passwordRelatedString,
  sessionId,
} from '../crypto/modern-inputs.ts';
import { deriveSessionKeys, type SessionKeys } from '../crypto/modern-keys.ts';
import { deriveSafetyCode } from '../crypto/safety-code.ts';
import { duetError, isDuetError, type ErrorCode } from '../errors.ts';
import type { Role } from '../protocol/control.ts';
import type { ChannelEffect } from './channel.ts';

type Phase =
  | { name: 'idle' }
  | { name: 'awaitingGrant' }
  | { name: 'awaitingHello'; attempt: number; relayNonce: Uint8Array; nonce: Uint8Array }
  | { name: 'awaitingShare'; attempt: number; sid: Uint8Array; scalar: Uint8Array; share: Uint8Array }
  | { name: 'awaitingConfirm'; attempt: number; sid: Uint8Array; isk: Uint8Array; expectedTag: Uint8Array }
  | { name: 'confirmed'; attempt: number; abortable: boolean }
  | { name: 'failed'; code: ErrorCode };

export type PhaseName = Phase['name'];

/** What one event produced: effects for the app, and ratchet keys when the partner is confirmed. */
export interface HandshakeStep {
  effects: ChannelEffect[];
  keys?: SessionKeys;
}

export interface HandshakeOptions {
  passphrase: string;
  room: string;
  random: (length: number) => Uint8Array;
}

/** The SecureChannel verbs, minus messages; see session/channel.ts for their contract. */
export interface Handshake {
  readonly phase: PhaseName;
  start(role: Role): HandshakeStep;
  grant(attempt: number, nonce: Uint8Array): HandshakeStep;
  retry(passphrase: string): HandshakeStep;
  receive(frame: HandshakeFrame): HandshakeStep;
  /** A message authenticated under the confirmed keys: the partner holds them, abort is moot. */
  partnerProvedKeys(): void;
  reset(): void;
}

type Frame<T extends HandshakeFrame['type']> = Extract<HandshakeFrame, { type: T }>;

export function createHandshake(options: HandshakeOptions): Handshake {
  checkPassphrase(options.passphrase);
  const ci = channelIdentifier(options.room);
  let passphrase = options.passphrase;
  let role: Role | undefined;
  let phase: Phase = { name: 'idle' };
  /** Why the passphrase may not be used again before `retry`; kept across `reset`. */
  let failure: ErrorCode | undefined;
  /** The highest attempt acted on; grants and hellos at or below it are stale. */
  let lastAttempt = -1;
  /** A grant not acted on yet (it came before `start`, or while failed). */
  let storedGrant: { attempt: number; nonce: Uint8Array } | undefined;
  /** The partner's hello for an attempt not acted on yet. */
  let pendingHello: { attempt: number; nonce: Uint8Array } | undefined;

  const done = (...effects: ChannelEffect[]): HandshakeStep => ({ effects });
  const transmit = (frame: HandshakeFrame): ChannelEffect => ({
    type: 'transmit',
    frame: encodeFrame(frame),
  });

  function enter(next: Phase): void {
    eraseSecrets(phase);
    phase = next;
  }

  /** Leaving `awaitingConfirm` without a valid Ta: our Tb let the partner test one guess. */
  function abandon(): void {
    if (phase.name === 'awaitingConfirm') failure ??= 'handshake-failed';
  }

  function fail(code: ErrorCode, reason?: AbortReason): HandshakeStep {
    const attempt = lastAttempt;
    failure = code;
    enter({ name: 'failed', code });
    const failed: ChannelEffect = { type: 'failed', code };
    return reason === undefined ? done(failed) : done(transmit({ type: 'abort', attempt, reason }), failed);
  }

  /** With a usable passphrase: use the stored grant, or ask the relay for one. */
  function begin(): HandshakeStep {
    enter({ name: 'awaitingGrant' });
    const grant = storedGrant;
    storedGrant = undefined;
    // Stryker disable next-line ConditionalExpression,EqualityOperator: equivalent: a grant is stored only above lastAttempt, which nothing raises before begin takes it (useGrant runs only without a stored grant); the check stays as the rule's statement
    if (grant !== undefined && grant.attempt > lastAttempt) return useGrant(grant.attempt, grant.nonce);
    return done({ type: 'request-handshake' });
  }

  function useGrant(attempt: number, relayNonce: Uint8Array): HandshakeStep {
    lastAttempt = attempt;
    const nonce = randomBytes(NONCE_BYTES);
    enter({ name: 'awaitingHello', attempt, relayNonce, nonce });
    const hello = transmit({ type: 'hello', attempt, nonce });
    const partner = pendingHello;
    // Stryker disable next-line ConditionalExpression,EqualityOperator: equivalent: a hello kept for an older attempt is never used (attempts only grow, and one is used only for its own attempt); dropping it only frees it
    if (partner === undefined || partner.attempt < attempt) pendingHello = undefined;
    if (partner?.attempt !== attempt) return done(hello);
    pendingHello = undefined;
    const next = bothHellos(partner.nonce);
    return { ...next, effects: [hello, ...next.effects] };
  }

  function bothHellos(partnerNonce: Uint8Array): HandshakeStep {
    // Stryker disable next-line ConditionalExpression,LogicalOperator: unreachable: both callers have just entered, or checked, awaitingHello with a role; the check narrows the phase
    if (phase.name !== 'awaitingHello' || role === undefined) return done();
    const { attempt, relayNonce, nonce } = phase;
    const sid =
      role === 'initiator'
        ? sessionId(relayNonce, nonce, partnerNonce)
        : sessionId(relayNonce, partnerNonce, nonce);
    const prs = passwordRelatedString(passphrase);
    const generator = calculateGenerator(prs, ci, sid);
    const scalar = sampleScalar(randomBytes);
    const share = scalarMult(scalar, generator);
    wipe(prs);
    wipe(generator);
    enter({ name: 'awaitingShare', attempt, sid, scalar, share });
    if (role === 'responder') return done();
    return done(transmit({ type: 'cpace-a', attempt, share, ad: AD_INITIATOR }));
  }

  /** K = scalar_mult_vfy(y, Y') with its abort on bad points (§7.2), then ISK over transcript_ir. */
  function computeIsk(own: Extract<Phase, { name: 'awaitingShare' }>, theirs: Uint8Array): Uint8Array {
    const k = scalarMultVfy(own.scalar, theirs);
    const transcript =
      role === 'initiator'
        ? transcriptIr(own.share, AD_INITIATOR, theirs, AD_RESPONDER)
        : transcriptIr(theirs, AD_INITIATOR, own.share, AD_RESPONDER);
    const isk = deriveIsk(own.sid, k, transcript);
    wipe(k);
    return isk;
  }

  /** Responder: Ya arrives; answer Yb and Tb, keep ISK and the expected Ta. */
  function onShareA(frame: Frame<'cpace-a'>): HandshakeStep {
    if (phase.name !== 'awaitingShare' || role !== 'responder') return done();
    if (!equalBytes(frame.ad, AD_INITIATOR)) return fail('handshake-failed', 'handshake-failed');
    const own = phase;
    const isk = computeIsk(own, frame.share);
    const macKey = confirmationKey(own.sid, isk);
    const tag = confirmationTag(macKey, own.share, AD_RESPONDER);
    const expectedTag = confirmationTag(macKey, frame.share, AD_INITIATOR);
    wipe(macKey);
    const reply = transmit({
      type: 'cpace-b',
      attempt: own.attempt,
      share: own.share,
      ad: AD_RESPONDER,
      tag,
    });
    enter({ name: 'awaitingConfirm', attempt: own.attempt, sid: own.sid, isk, expectedTag });
    return done(reply);
  }

  /** Initiator: Yb and Tb arrive; check Tb before anything of ours depends on the key. */
  function onShareB(frame: Frame<'cpace-b'>): HandshakeStep {
    if (phase.name !== 'awaitingShare' || role !== 'initiator') return done();
    if (!equalBytes(frame.ad, AD_RESPONDER)) return fail('handshake-failed', 'handshake-failed');
    const own = phase;
    const isk = computeIsk(own, frame.share);
    const macKey = confirmationKey(own.sid, isk);
    const tagOk = equalBytes(confirmationTag(macKey, frame.share, AD_RESPONDER), frame.tag);
    const tag = confirmationTag(macKey, own.share, AD_INITIATOR);
    wipe(macKey);
    if (!tagOk) {
      wipe(isk);
      return fail('passphrase-mismatch', 'passphrase-mismatch');
    }
    const ready: ChannelEffect = { type: 'ready', safetyCode: deriveSafetyCode(isk, own.sid) };
    const keys = sessionKeys(isk, own.sid);
    const confirm = transmit({ type: 'confirm', attempt: own.attempt, tag });
    enter({ name: 'confirmed', attempt: own.attempt, abortable: true });
    return { effects: [confirm, ready], keys };
  }

  /** Responder: Ta arrives. */
  function onConfirm(frame: Frame<'confirm'>): HandshakeStep {
    if (phase.name !== 'awaitingConfirm') return done();
    if (!equalBytes(phase.expectedTag, frame.tag)) return fail('passphrase-mismatch', 'passphrase-mismatch');
    const ready: ChannelEffect = { type: 'ready', safetyCode: deriveSafetyCode(phase.isk, phase.sid) };
    const keys = sessionKeys(phase.isk, phase.sid);
    enter({ name: 'confirmed', attempt: phase.attempt, abortable: false });
    return { effects: [ready], keys };
  }

  /** Ratchet keys exist only from here on, after the partner's tag verified. Wipes `isk`. */
  function sessionKeys(isk: Uint8Array, sid: Uint8Array): SessionKeys {
    // Stryker disable next-line all: unreachable: set by start
    if (role === undefined) throw duetError('bad-input', 'no role');
    const keys = deriveSessionKeys(isk, sid, role);
    wipe(isk);
    return keys;
  }

  function onHello(frame: Frame<'hello'>): HandshakeStep {
    if (phase.name === 'awaitingHello' && frame.attempt === phase.attempt) return bothHellos(frame.nonce);
    if (frame.attempt <= lastAttempt) return stray();
    // An attempt not acted on yet: its grant is on the way, or stored while failed. A hello
    // while confirmed means the partner restarted: its keys are gone, so are ours.
    pendingHello = { attempt: frame.attempt, nonce: frame.nonce };
    if (phase.name === 'confirmed') enter({ name: 'awaitingGrant' });
    return done();
  }

  /** The partner's verdict on this attempt, before it could have proved the key to us. */
  function onAbort(frame: Frame<'abort'>): HandshakeStep {
    const open =
      phase.name === 'awaitingHello' || phase.name === 'awaitingShare' || phase.name === 'awaitingConfirm';
    // Stryker disable next-line ConditionalExpression: equivalent: only `confirmed` has `abortable`; the name narrows the type
    if (frame.attempt !== lastAttempt || !(open || (phase.name === 'confirmed' && phase.abortable)))
      return stray();
    return fail(frame.reason);
  }

  /** A handshake frame that fits no open attempt: stale, ignored; while confirmed, suspicious. */
  function stray(): HandshakeStep {
    return phase.name === 'confirmed' ? done({ type: 'warning', code: 'bad-frame' }) : done();
  }

  function dispatch(frame: HandshakeFrame): HandshakeStep {
    if (frame.type === 'hello') return onHello(frame);
    // Stryker disable next-line ConditionalExpression,LogicalOperator,StringLiteral: equivalent: without it these phases reach stray(), which also returns nothing outside `confirmed`; said here for the reader
    if (phase.name === 'failed' || phase.name === 'idle') return done();
    if (frame.type === 'abort') return onAbort(frame);
    if (phase.name === 'confirmed' || !('attempt' in phase) || frame.attempt !== phase.attempt)
      return stray();
    switch (frame.type) {
      case 'cpace-a':
        return onShareA(frame);
      case 'cpace-b':
        return onShareB(frame);
      case 'confirm':
        return onConfirm(frame);
      // Stryker disable next-line all: unreachable: the switch is exhaustive (the type checker proves it)
      default:
        return unreachable(frame);
    }
  }

  function randomBytes(length: number): Uint8Array {
    const bytes = options.random(length);
    if (!(bytes instanceof Uint8Array) || bytes.length !== length) {
      throw duetError('bad-input', 'random must return the requested number of bytes');
    }
    return bytes;
  }

  return {
    get phase() {
      return phase.name;
    },
    start(newRole) {
      abandon();
      role = newRole;
      // Stryker disable next-line ConditionalExpression,EqualityOperator: equivalent: a hello at or below lastAttempt is never used (see useGrant); dropping it only frees it
      if (pendingHello !== undefined && pendingHello.attempt <= lastAttempt) pendingHello = undefined;
      if (failure !== undefined) return fail(failure);
      if (newRole === 'initiator' || storedGrant !== undefined) return begin();
      enter({ name: 'awaitingGrant' });
      return done();
    },
    grant(attempt, nonce) {
      if (!Number.isInteger(attempt) || attempt < 0 || attempt > 0xffff_ffff)
        throw duetError('bad-input', 'attempt must be an integer in [0, 2^32)');
      if (!(nonce instanceof Uint8Array) || nonce.length !== NONCE_BYTES)
        throw duetError('bad-input', `relay nonce must be ${NONCE_BYTES} bytes`);
      if (attempt <= lastAttempt) return done();
      abandon();
      if (role === undefined || failure !== undefined) {
        storedGrant = { attempt, nonce: nonce.slice() };
        // Stryker disable next-line LogicalOperator,StringLiteral: equivalent: abandon() has just set `failure` in this phase; the default is for the type checker
        if (phase.name === 'awaitingConfirm') return fail(failure ?? 'handshake-failed');
        // Only the partner asks for attempts while we are failed: it is trying again.
        return phase.name === 'failed' ? done({ type: 'partner-retried' }) : done();
      }
      return useGrant(attempt, nonce.slice());
    },
    retry(newPassphrase) {
      checkPassphrase(newPassphrase);
      passphrase = newPassphrase;
      failure = undefined;
      if (role !== undefined) return begin();
      enter({ name: 'idle' });
      return done();
    },
    receive(frame) {
      try {
        return dispatch(frame);
      } catch (error) {
        // The only throw on this path is an invalid or neutral point from the partner (§9).
        if (!isDuetError(error, 'bad-point')) throw error;
        return fail('bad-point', 'handshake-failed');
      }
    },
    partnerProvedKeys() {
      // Stryker disable next-line ConditionalExpression: equivalent: other phases have no `abortable` to read; the name narrows the type
      if (phase.name === 'confirmed') phase.abortable = false;
    },
    reset() {
      abandon();
      enter({ name: 'idle' });
      role = undefined;
      lastAttempt = -1;
      storedGrant = undefined;
      pendingHello = undefined;
    },
  };
}

function eraseSecrets(phase: Phase): void {
  switch (phase.name) {
    case 'awaitingShare':
      wipe(phase.scalar);
      return;
    case 'awaitingConfirm':
      wipe(phase.isk);
      wipe(phase.expectedTag);
      return;
    // Stryker disable next-line ConditionalExpression: equivalent: the other phases hold no secret
    default:
      return;
  }
}

// Stryker disable all: unreachable (see dispatch)
function unreachable(value: never): never {
  throw duetError('bad-frame', `unhandled handshake frame ${String(value)}`);
}
// Stryker restore all
