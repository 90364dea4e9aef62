/**
 * Whether and when the two browsers open a direct link (a WebRTC data channel), as a pure
 * machine: the conversation feeds it what happened and carries out its effects.
 *
 * - Each side says whether it accepts a direct path (`prefs`) once the session is ready, and
 *   again when the user changes "Always use the relay". With it set, this side never creates a
 *   link (no RTCPeerConnection, so no address is gathered) and declines offers.
 * - Roles come from the relay, so there is no glare: the initiator offers, the responder
 *   answers. The initiator waits until it knows the partner accepts.
 * - The offer, the answer and every ICE candidate go through the channel (path-messages.ts):
 *   the relay sees only encrypted frames. Each attempt has a number; anything about another
 *   attempt is ignored.
 * - A link that does not open in `connectMs`, closes, fails or is given up by the path switch
 *   ends the attempt; both sides are told (`bye`). The initiator tries again after a back-off
 *   that grows with each failure, and starts again from the shortest once a link has stayed
 *   confirmed for `stableMs`.
 *
 * Which frames go on an open link is the path switch's business (path-switch.ts).
 */
import type { Role } from '../protocol/control.ts';
import type { PathMessage } from './path-messages.ts';

/** A local description or candidate to pass to the partner, or one of the partner's. */
export type DirectSignal =
  | { type: 'offer' | 'answer'; sdp: string }
  | { type: 'candidate'; candidate: string; sdpMid: string | null; sdpMLineIndex: number | null };

/** Why a direct link closed, from the link's side. */
export type DirectCloseReason = 'closed' | 'failed' | 'too-large' | 'overflow';

export interface DirectLinkHandlers {
  /** A local description or candidate: the conversation passes it to the partner. */
  onSignal(signal: DirectSignal): void;
  /** The data channel is open both ways. */
  onOpen(): void;
  /** One frame from the partner. */
  onFrame(frame: Uint8Array): void;
  /** The link is gone (closed by either side, failed, or refused a frame); not after `close()`. */
  onClose(reason: DirectCloseReason): void;
}

/** One direct link to the partner: a reliable, ordered data channel. */
export interface DirectLink {
  /** The partner's description or candidate. */
  signal(signal: DirectSignal): void;
  /** Sends one frame (the link buffers and paces; it closes itself when it cannot). */
  send(frame: Uint8Array): void;
  close(): void;
  /** Bytes handed to the link and not yet sent, if it can tell: bulk holds back while high. */
  readonly bufferedAmount?: number;
}

export type ConnectDirect = (options: { initiator: boolean }, handlers: DirectLinkHandlers) => DirectLink;

export type DialerTimer = 'connect' | 'retry' | 'stable';

export type DialerEffect =
  /** Create a link for `attempt` (the initiator's makes an offer). */
  | { type: 'connect'; attempt: number; initiator: boolean }
  /** Pass the partner's description or candidate to the current link. */
  | { type: 'signal'; signal: DirectSignal }
  /** Close the current link. */
  | { type: 'close' }
  /** Send this to the partner through the channel. */
  | { type: 'seal'; message: PathMessage }
  | { type: 'arm'; timer: DialerTimer; ms: number }
  | { type: 'disarm'; timer: DialerTimer };

export interface DirectDialerOptions {
  /** False: "Always use the relay". */
  allowed: boolean;
  /** A number in [0, 1) for the back-off's jitter. */
  random?: () => number;
  /** Delays before the initiator tries again, by failures in a row (the last repeats). */
  retryDelaysMs?: readonly number[];
  /** An attempt whose link is not open by then has failed. */
  connectMs?: number;
  /** A link confirmed this long resets the back-off. */
  stableMs?: number;
}

export const DEFAULT_RETRY_DELAYS_MS = [2_000, 10_000, 30_000, 60_000, 120_000, 300_000];
export const DEFAULT_CONNECT_MS = 20_000;
export const DEFAULT_STABLE_MS = 30_000;

/**
 * `off`: no session; `idle`: no link and none due; `connecting`: a link that is not open yet;
 * `open`: a link is open; `waiting`: the initiator waits out its back-off.
 */
type Phase = 'off' | 'idle' | 'connecting' | 'open' | 'waiting';

export class DirectDialer {
  readonly #random: () => number;
  readonly #retryDelaysMs: readonly number[];
  readonly #connectMs: number;
  readonly #stableMs: number;
  #allowed: boolean;
  #phase: Phase = 'off';
  #role: Role | undefined;
  /** What the partner said in its last `prefs`, if it has said anything this session. */
  #partnerAllows: boolean | undefined;
  #attempt = 0;
  #failures = 0;

  constructor(options: DirectDialerOptions) {
    this.#allowed = options.allowed;
    this.#random = options.random ?? Math.random;
    this.#retryDelaysMs = options.retryDelaysMs ?? DEFAULT_RETRY_DELAYS_MS;
    this.#connectMs = options.connectMs ?? DEFAULT_CONNECT_MS;
    this.#stableMs = options.stableMs ?? DEFAULT_STABLE_MS;
  }

  get allowed(): boolean {
    return this.#allowed;
  }

  /** The partner's choice, once known this session. */
  get partnerAllows(): boolean | undefined {
    return this.#partnerAllows;
  }

  /** The attempt of the current link (meaningful while one exists). */
  get attempt(): number {
    return this.#attempt;
  }

  /** The session is ready: say what this side accepts, and offer if it is our turn. */
  start(role: Role): DialerEffect[] {
    const effects = this.stop();
    this.#role = role;
    this.#phase = 'idle';
    this.#attempt = 0;
    this.#failures = 0;
    effects.push({ type: 'seal', message: { t: 'prefs', direct: this.#allowed } });
    return effects;
  }

  /** The session ended: the link, if any, goes; nothing is said (there are no keys). */
  stop(): DialerEffect[] {
    const effects = this.#hasLink() ? [{ type: 'close' } as const] : [];
    this.#phase = 'off';
    this.#partnerAllows = undefined;
    return [...effects, ...this.#disarmAll()];
  }

  /** The user changed "Always use the relay" (`allowed` is its opposite). */
  setAllowed(allowed: boolean): DialerEffect[] {
    if (allowed === this.#allowed) return [];
    this.#allowed = allowed;
    if (this.#phase === 'off') return [];
    const effects: DialerEffect[] = [];
    if (!allowed) effects.push(...this.#endLink(true), { type: 'disarm', timer: 'retry' });
    effects.push({ type: 'seal', message: { t: 'prefs', direct: allowed } });
    if (!allowed) this.#phase = 'idle';
    else {
      this.#failures = 0;
      effects.push(...this.#maybeDial());
    }
    return effects;
  }

  /** A dialer message from the partner (prefs, offer, answer, candidate, bye). */
  message(message: PathMessage): DialerEffect[] {
    if (this.#phase === 'off') return [];
    switch (message.t) {
      case 'prefs': {
        this.#partnerAllows = message.direct;
        if (message.direct) return this.#maybeDial();
        const effects = this.#endLink(false);
        this.#phase = 'idle';
        return [...effects, { type: 'disarm', timer: 'retry' }];
      }
      case 'offer': {
        if (this.#role !== 'responder' || message.attempt <= this.#attempt) return [];
        if (!this.#allowed) {
          this.#attempt = message.attempt;
          return [{ type: 'seal', message: { t: 'bye', attempt: message.attempt } }];
        }
        const effects = this.#endLink(false);
        this.#attempt = message.attempt;
        this.#phase = 'connecting';
        effects.push(
          { type: 'connect', attempt: this.#attempt, initiator: false },
          { type: 'signal', signal: { type: 'offer', sdp: message.sdp } },
          { type: 'arm', timer: 'connect', ms: this.#connectMs },
        );
        return effects;
      }
      case 'answer':
        if (this.#role !== 'initiator' || !this.#current(message.attempt)) return [];
        return [{ type: 'signal', signal: { type: 'answer', sdp: message.sdp } }];
      case 'candidate': {
        if (!this.#current(message.attempt)) return [];
        const { candidate, sdpMid, sdpMLineIndex } = message;
        return [{ type: 'signal', signal: { type: 'candidate', candidate, sdpMid, sdpMLineIndex } }];
      }
      case 'bye':
        return this.#current(message.attempt) ? this.#failed(false) : [];
      default:
        return [];
    }
  }

  /** A local description or candidate from the current link. */
  localSignal(signal: DirectSignal): DialerEffect[] {
    if (!this.#hasLink()) return [];
    const attempt = this.#attempt;
    if (signal.type !== 'candidate')
      return [{ type: 'seal', message: { t: signal.type, attempt, sdp: signal.sdp } }];
    const { candidate, sdpMid, sdpMLineIndex } = signal;
    return [{ type: 'seal', message: { t: 'candidate', attempt, candidate, sdpMid, sdpMLineIndex } }];
  }

  /** The current link opened. */
  opened(): DialerEffect[] {
    if (this.#phase !== 'connecting') return [];
    this.#phase = 'open';
    return [{ type: 'disarm', timer: 'connect' }];
  }

  /** The path switch confirmed the link (its probe was answered). */
  confirmed(): DialerEffect[] {
    return this.#phase === 'open' ? [{ type: 'arm', timer: 'stable', ms: this.#stableMs }] : [];
  }

  /** The current link closed or failed by itself, or the path switch gave it up. */
  failed(): DialerEffect[] {
    return this.#failed(true);
  }

  timeout(timer: DialerTimer): DialerEffect[] {
    switch (timer) {
      case 'connect':
        return this.#phase === 'connecting' ? this.#failed(true) : [];
      case 'retry':
        if (this.#phase !== 'waiting') return [];
        this.#phase = 'idle';
        return this.#maybeDial();
      case 'stable':
        this.#failures = 0;
        return [];
    }
  }

  #hasLink(): boolean {
    return this.#phase === 'connecting' || this.#phase === 'open';
  }

  #current(attempt: number): boolean {
    return this.#hasLink() && attempt === this.#attempt;
  }

  #maybeDial(): DialerEffect[] {
    if (this.#role !== 'initiator' || this.#phase !== 'idle') return [];
    if (!this.#allowed || this.#partnerAllows !== true) return [];
    this.#attempt += 1;
    this.#phase = 'connecting';
    return [
      { type: 'connect', attempt: this.#attempt, initiator: true },
      { type: 'arm', timer: 'connect', ms: this.#connectMs },
    ];
  }

  /** Closes the current link, if any, telling the partner when `sayBye`. */
  #endLink(sayBye: boolean): DialerEffect[] {
    if (!this.#hasLink()) return [];
    this.#phase = 'idle';
    const effects: DialerEffect[] = [
      { type: 'close' },
      { type: 'disarm', timer: 'connect' },
      { type: 'disarm', timer: 'stable' },
    ];
    if (sayBye) effects.push({ type: 'seal', message: { t: 'bye', attempt: this.#attempt } });
    return effects;
  }

  /** The attempt failed: the initiator waits, longer after each failure in a row, then tries again. */
  #failed(sayBye: boolean): DialerEffect[] {
    if (!this.#hasLink()) return [];
    const effects = this.#endLink(sayBye);
    this.#failures += 1;
    if (this.#role !== 'initiator') return effects;
    const delays = this.#retryDelaysMs;
    const base = delays[Math.min(this.#failures - 1, delays.length - 1)] ?? 60_000;
    this.#phase = 'waiting';
    effects.push({ type: 'arm', timer: 'retry', ms: Math.round(base * (0.8 + 0.4 * this.#random())) });
    return effects;
  }

  #disarmAll(): DialerEffect[] {
    return (['connect', 'retry', 'stable'] as const).map((timer) => ({ type: 'disarm', timer }));
  }
}
