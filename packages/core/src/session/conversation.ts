/**
 * One conversation: the file that wires the relay protocol, the suite's channel and the suite's
 * delivery machine (outbox, inbox, receipts). It owns no socket and no timer of its own:
 * `connect` and `timers` are passed in, so the browser app, the terminal client and the tests
 * all run this same code.
 *
 * What it guarantees, across dropped connections (reconnect with back-off, resume of the held
 * seat, retransmission): with `modern`, every message typed is shown to the partner exactly once
 * and in order, or ends `failed`, visibly; with `des`, which has no receipts, every message
 * reaches the relay at least once, or ends `failed`. The suite's `Delivery` (delivery.ts) holds
 * that difference; this file never asks which suite it runs. A lost `joined` or `resumed` costs
 * nothing: the client picks its seat tokens itself and asks again with the same ones
 * (docs/protocol.md, "Lost answers"). Frames to the relay are paced to its rate (pacer.ts).
 *
 * Frames reach the partner through the relay or, when the suite allows it (`modern`) and a
 * `direct` option is given, through a direct link: the path switch (path-switch.ts) routes them
 * and orders what comes back, the dialer (direct-dialer.ts) opens and closes links. Both are
 * pure; this file carries out what they decide, so the same delivery runs over either path.
 */
import { fromHex, randomBytes, toHex } from '../bytes.ts';
import { isDuetError, type ErrorCode } from '../errors.ts';
import {
  encodeControl,
  parseServerMessage,
  type ClientMessage,
  type FrameRate,
  type Role,
  type ServerMessage,
  type SuiteId,
  SUITE_VERSIONS,
} from '../protocol/control.ts';
import type { SafetyCode } from '../crypto/safety-code.ts';
import type { ChannelEffect, Payload, SecureChannel } from './channel.ts';
import { createDelivery, type Delivery, type DeliveryEffect } from './delivery.ts';
import { EventHold } from './event-hold.ts';
import { DirectDialer, type ConnectDirect, type DialerEffect, type DirectLink } from './direct-dialer.ts';
import type { DeliveryStatus } from './outbox.ts';
import type { PathMessage } from './path-messages.ts';
import {
  PathSwitch,
  type FrameTag,
  type PathName,
  type PathSwitchEffect,
  type PathSwitchOptions,
} from './path-switch.ts';
import type { PayloadHandler, PayloadPort } from './payloads.ts';
import { DEFAULT_FRAME_RATE, Pacer } from './pacer.ts';

export type { PayloadHandler, PayloadPort } from './payloads.ts';

/** One connection to the relay, as the conversation sees it. */
export interface Link {
  sendText(text: string): void;
  sendBinary(bytes: Uint8Array): void;
  close(code: number, reason: string): void;
  /** Bytes handed to the socket and not yet sent (WebSocket `bufferedAmount`), if it can tell. */
  readonly bufferedAmount?: number;
}

export interface LinkHandlers {
  onOpen(): void;
  onText(text: string): void;
  onBinary(bytes: Uint8Array): void;
  /** The connection is gone (closed by either side, or never opened). */
  onClose(): void;
}

export type Connect = (handlers: LinkHandlers) => Link;

export interface Timers {
  set(callback: () => void, ms: number): unknown;
  clear(handle: unknown): void;
}

export type ConversationStatus =
  'connecting' | 'waiting' | 'handshaking' | 'ready' | 'reconnecting' | 'closed' | 'failed';

export type PartnerState = 'absent' | 'present' | 'away';

export type ConversationEvent =
  | { type: 'status'; status: ConversationStatus }
  | { type: 'partner'; state: PartnerState }
  | { type: 'outgoing'; id: number; text: string }
  | { type: 'delivery'; id: number; status: DeliveryStatus }
  | { type: 'incoming'; text: string }
  /** The path this side's frames take now (first sent when the channel is ready). */
  | { type: 'path'; path: PathName }
  /** Whether the partner accepts a direct path (its "Always use the relay" is off), as it said. */
  | { type: 'partner-direct'; allowed: boolean }
  /**
   * Fatal problems end the conversation (or, for `passphrase-mismatch`, wait for `retry`).
   * `retryAfterMs`: the conversation tries again by itself after this long (`rate-limited`).
   */
  | { type: 'problem'; code: ErrorCode; fatal: boolean; retryAfterMs?: number }
  /** `modern`: the new session's safety code, for the two people to compare. */
  | { type: 'safety-code'; code: SafetyCode }
  /** After a failure on this side: the partner is trying again and waits for us to. */
  | { type: 'partner-retried' }
  /** Someone was refused a seat in our room because it asked for the other suite. */
  | { type: 'partner-refused'; code: 'suite-mismatch'; suite: SuiteId };

export interface ConversationOptions {
  room: string;
  suite: SuiteId;
  channel: SecureChannel;
  connect: Connect;
  timers: Timers;
  onEvent: (event: ConversationEvent) => void;
  random?: (length: number) => Uint8Array;
  /** The clock (ms), for pacing frames to the relay's rate; default `Date.now`. */
  now?: () => number;
  /** Delays between reconnection attempts (the last repeats), before ±20 % jitter. */
  reconnectDelaysMs?: readonly number[];
  /** Attempts in a row before giving up with `connection-lost`. */
  maxReconnectAttempts?: number;
  /**
   * A direct path to the partner, for suites that can carry it (`modern`; `des` ignores it):
   * how to open a link, and whether the user allows one (false: "Always use the relay", no
   * link is ever created).
   */
  direct?: { connect: ConnectDirect; allowed: boolean; paths?: PathSwitchOptions };
}

export const DEFAULT_RECONNECT_DELAYS_MS = [250, 500, 1_000, 2_000, 4_000, 8_000, 10_000];
export const DEFAULT_MAX_RECONNECT_ATTEMPTS = 30;
/** Back-off before asking for another handshake after failures (ms), by failures so far. */
const HANDSHAKE_BACKOFF_MS = [0, 1_000, 2_000, 4_000, 8_000, 16_000, 30_000];
/**
 * When both seats are taken the relay grants the first attempt by itself (`modern`). The
 * initiator asks only if no grant came within this long: a relay older than that, or a room
 * with no attempt left (then the answer says how long to wait).
 */
export const GRANT_ON_SEAT_WAIT_MS = 1_000;
/**
 * The longest the page's view of a partner's arrival waits for the secure channel: long enough
 * for a handshake on a fast link, short enough that a slow one shows progress (event-hold.ts).
 */
export const SEAT_HOLD_MAX_MS = 400;
/**
 * Unconfirmed messages are sent again when no receipt makes progress for this long (doubling
 * up to the maximum): a frame the network or an attacker spoiled must not stall the queue.
 */
export const RETRANSMIT_MIN_MS = 1_000;
export const RETRANSMIT_MAX_MS = 30_000;
/** Relay errors after which this conversation cannot go on in this room. */
const FATAL_RELAY_CODES = new Set<ErrorCode>([
  'room-full',
  'suite-mismatch',
  'bad-room',
  'bad-suite',
  'server-busy',
]);

/** The partner here, the handshake under way, the path it runs on: what a seat hold keeps back. */
function isHandshakeProgress(event: ConversationEvent): boolean {
  return (
    (event.type === 'partner' && event.state === 'present') ||
    (event.type === 'status' && event.status === 'handshaking') ||
    event.type === 'path'
  );
}

export class Conversation {
  readonly #options: Required<Omit<ConversationOptions, 'direct'>> & {
    direct?: ConversationOptions['direct'];
  };
  readonly #channel: SecureChannel;
  readonly #delivery: Delivery;

  #link: Link | undefined;
  #linkOpen = false;
  #framesOnLink = 0;
  #seated = false;
  #everSeated = false;
  /** The seat's token as last confirmed by `joined` or `resumed`: `resume` presents it. */
  #token: string | undefined;
  /**
   * The token this client asked for and has not seen confirmed (`join`'s, or `resume`'s
   * `next`): kept, and asked for again, until an answer comes, so a lost answer costs nothing.
   */
  #pendingToken: string | undefined;
  #rate: FrameRate = DEFAULT_FRAME_RATE;
  readonly #pacer = new Pacer();
  #paceTimer: unknown;
  #role: Role | undefined;
  #partner: PartnerState = 'absent';
  #channelStarted = false;
  #channelReady = false;
  #channelFailed = false;
  #failedAttempts = 0;
  /** Counts link-ups: each message goes out at most once per link-up (`linkEpoch` on it). */
  #linkEpoch = 0;
  #receiptQueued = false;
  #queue: Promise<void> = Promise.resolve();
  #reconnectAttempts = 0;
  #reconnectTimer: unknown;
  #handshakeTimer: unknown;
  /** Both seats were just taken: the relay's grant is on its way, nobody needs to ask. */
  #grantOnSeat = false;
  /** The UI's events, held while a first handshake runs (event-hold.ts). */
  readonly #events: EventHold<ConversationEvent>;
  #retransmitTimer: unknown;
  #retransmitDelayMs = RETRANSMIT_MIN_MS;
  /** Why the conversation ended: the user left, the connection was lost for good, or a fatal error. */
  #ended: 'left' | 'lost' | 'fatal' | undefined;
  #status: ConversationStatus | undefined;
  // The direct path: which path carries frames, and the link to the partner, if any.
  readonly #paths: PathSwitch;
  readonly #dialer: DirectDialer | undefined;
  #directLink: DirectLink | undefined;
  #relayUsable = false;
  #shownPath: PathName | undefined;
  /** Partner frames the path switch released, read in order before anything else. */
  readonly #deliveries: Uint8Array[] = [];
  #delivering = false;
  readonly #pathTimers = new Map<string, unknown>();
  #payloads: PayloadHandler | undefined;
  /** Whether the payload handler was last told the path is up. */
  #pathUp = false;

  constructor(options: ConversationOptions) {
    this.#options = {
      random: randomBytes,
      now: () => Date.now(),
      reconnectDelaysMs: DEFAULT_RECONNECT_DELAYS_MS,
      maxReconnectAttempts: DEFAULT_MAX_RECONNECT_ATTEMPTS,
      ...options,
    };
    this.#channel = options.channel;
    this.#events = new EventHold({
      deliver: options.onEvent,
      // Progress towards the secure channel is held; anything else is for the person to see now.
      releasesOn: (event) => !isHandshakeProgress(event),
      timers: this.#options.timers,
      maxMs: SEAT_HOLD_MAX_MS,
    });
    this.#delivery = createDelivery(options.suite, this.#options.random);
    this.#paths = new PathSwitch(options.direct?.paths);
    if (options.direct && this.#delivery.directPath) {
      this.#dialer = new DirectDialer({
        allowed: options.direct.allowed,
        random: () => (this.#options.random(1)[0] ?? 0) / 256,
      });
    }
  }

  get status(): ConversationStatus {
    return this.#computeStatus();
  }

  /** Resolves once every piece of channel work queued so far (and what it queued) is done. */
  async settled(): Promise<void> {
    let queue: Promise<void>;
    do {
      queue = this.#queue;
      await queue;
    } while (queue !== this.#queue);
  }

  /** Connects and joins the room. */
  start(): void {
    this.#update();
    this.#connect();
  }

  /** Queues a message; returns its id (delivery events follow). */
  send(text: string): number {
    const message = this.#delivery.add(text);
    this.#emit({ type: 'outgoing', id: message.id, text });
    this.#run(() => this.#flush());
    return message.id;
  }

  /** Attaches the machine that owns binary payloads (one at most); returns its way out. */
  attachPayloads(handler: PayloadHandler): PayloadPort {
    this.#payloads = handler;
    const backlog = () => this.#payloadBacklog();
    return {
      maxBytes: this.#channel.maxDataBytes,
      get backlog() {
        return backlog();
      },
      send: (bytes) => this.#sendPayload(bytes),
    };
  }

  /**
   * Bytes waiting on the path payloads take now, or Infinity while they must hold back: the
   * path switch's window is full, or (on the relay) its frame rate would make a message wait
   * (pacer.ts), so a file never spends the frames that chat and receipts need, and never meets
   * `rate-limited`.
   */
  #payloadBacklog(): number {
    if (!this.#canSendMessages()) return Number.POSITIVE_INFINITY;
    if (this.#paths.path === 'direct') return this.#directLink?.bufferedAmount ?? 0;
    if (this.#pacer.waitMs(this.#options.now()) > 0) return Number.POSITIVE_INFINITY;
    return this.#link?.bufferedAmount ?? 0;
  }

  /** After `passphrase-mismatch`: try another passphrase on the same connection. */
  retry(passphrase: string): void {
    this.#channelFailed = false;
    this.#delivery.rekeyed();
    this.#run((channel) => channel.retry(passphrase));
    // A partner who arrived while we were failed has not been started yet.
    if (this.#partner === 'present' && !this.#channelStarted) this.#startChannel();
    this.#update();
  }

  /** "Always use the relay" when `allowed` is false: any direct link closes, none is made. */
  setDirectAllowed(allowed: boolean): void {
    if (this.#dialer && !this.#ended) this.#applyDialer(this.#dialer.setAllowed(allowed));
  }

  /** Frees the seat at once and ends the conversation; undelivered messages fail. */
  leave(): void {
    if (this.#ended) return;
    this.#ended = 'left';
    this.#options.timers.clear(this.#reconnectTimer);
    this.#options.timers.clear(this.#handshakeTimer);
    this.#options.timers.clear(this.#retransmitTimer);
    this.#options.timers.clear(this.#paceTimer);
    this.#endDirect();
    this.#sendControl({ type: 'leave' });
    this.#link?.close(1000, 'leave');
    this.#link = undefined;
    this.#channel.reset();
    for (const id of this.#delivery.failAll()) this.#emit({ type: 'delivery', id, status: 'failed' });
    this.#payloads?.ended('left');
    this.#update();
  }

  // --- The relay link -------------------------------------------------------------------

  #connect(): void {
    const link = this.#options.connect({
      onOpen: () => {
        if (this.#link !== link) return;
        this.#linkOpen = true;
        this.#pacer.reset(this.#rate, this.#options.now()); // the relay's bucket is new, and full
        this.#takeSeat();
      },
      onText: (text) => {
        if (this.#link === link) this.#onText(text);
      },
      onBinary: (bytes) => {
        if (this.#link === link) this.#run(() => this.#admit('relay', bytes));
      },
      onClose: () => {
        if (this.#link === link) this.#onLinkClosed();
      },
    });
    this.#link = link;
  }

  #onLinkClosed(): void {
    this.#link = undefined;
    this.#linkOpen = false;
    this.#seated = false;
    this.#framesOnLink = 0;
    this.#delivery.newLink();
    if (this.#ended) return this.#update();
    this.#reconnectAttempts += 1;
    if (this.#reconnectAttempts > this.#options.maxReconnectAttempts) {
      this.#end('lost', 'connection-lost');
      return;
    }
    const delays = this.#options.reconnectDelaysMs;
    const base = delays[Math.min(this.#reconnectAttempts - 1, delays.length - 1)] ?? 1_000;
    const jitter = 0.8 + 0.4 * ((this.#options.random(1)[0] ?? 128) / 255);
    this.#reconnectTimer = this.#options.timers.set(() => this.#connect(), Math.round(base * jitter));
    this.#update();
  }

  /**
   * `resume` with the last confirmed token, or `join`; either way with the token this client
   * wants next, the same one again until an answer confirms it. `join` carries the suite's
   * payload version: the relay seats only pages that understand each other.
   */
  #takeSeat(): void {
    this.#pendingToken ??= toHex(this.#options.random(16));
    const { room, suite } = this.#options;
    if (this.#token)
      this.#sendControl({ type: 'resume', room, token: this.#token, next: this.#pendingToken });
    else
      this.#sendControl({
        type: 'join',
        room,
        suite,
        token: this.#pendingToken,
        version: SUITE_VERSIONS[suite],
        ...(suite === 'modern' ? { grantOnSeat: true } : {}),
      });
  }

  #sendControl(message: ClientMessage): void {
    if (!this.#linkOpen || !this.#link) return;
    this.#pacer.charge(this.#options.now());
    this.#link.sendText(encodeControl(message));
  }

  #transmit(frame: Uint8Array): number | undefined {
    if (!this.#linkOpen || !this.#link) return undefined;
    this.#pacer.charge(this.#options.now());
    this.#link.sendBinary(frame);
    return ++this.#framesOnLink;
  }

  /**
   * Whether a frame that can wait (a message, a receipt) must wait for the pacer; if so, it is
   * retried then. The pacer is the relay's: frames on the direct link do not wait for it.
   */
  #mustWait(): boolean {
    if (this.#paths.path === 'direct') return false;
    const waitMs = this.#pacer.waitMs(this.#options.now());
    if (waitMs === 0) return false;
    if (this.#paceTimer === undefined) {
      this.#paceTimer = this.#options.timers.set(() => {
        this.#paceTimer = undefined;
        // The receipt first (if one is due): it unblocks the partner's queue.
        if (!this.#receiptQueued) {
          this.#receiptQueued = true;
          this.#run(() => this.#sendReceipt());
        }
        this.#run(() => this.#flush());
      }, waitMs);
    }
    return true;
  }

  #onText(text: string): void {
    let message: ServerMessage;
    try {
      message = parseServerMessage(text);
    } catch {
      this.#emit({ type: 'problem', code: 'bad-frame', fatal: false });
      return;
    }
    this.#onControl(message);
  }

  #onControl(message: ServerMessage): void {
    switch (message.type) {
      case 'joined':
      case 'resumed': {
        const fresh = message.type === 'joined';
        this.#seated = true;
        this.#everSeated = true;
        this.#reconnectAttempts = 0;
        this.#token = message.token;
        this.#pendingToken = undefined;
        if (message.rate) {
          this.#rate = message.rate;
          this.#pacer.learn(message.rate, this.#options.now());
        }
        this.#role = message.role;
        if (fresh) this.#forgetSession();
        this.#partner = !message.partner ? 'absent' : message.partnerAway ? 'away' : 'present';
        if (fresh && this.#partner === 'present') {
          this.#grantOnSeat = true;
          this.#holdForHandshake();
        }
        this.#emit({ type: 'partner', state: this.#partner });
        if (this.#partner === 'present') this.#partnerConnected();
        break;
      }
      case 'partner-joined':
        this.#holdForHandshake(); // before the partner event below, which it holds
        this.#setPartner('present');
        this.#forgetSession(); // a new partner is a new session
        this.#grantOnSeat = true;
        this.#partnerConnected();
        break;
      case 'partner-back':
        this.#setPartner('present');
        this.#partnerConnected();
        break;
      case 'partner-away':
        this.#setPartner('away');
        break;
      case 'partner-left':
        this.#setPartner('absent');
        this.#forgetSession();
        break;
      case 'handshake':
        this.#run((channel) => {
          // In turn, so that a request the start just scheduled is the one called off. A
          // request pending now (a back-off) would only start this attempt over.
          this.#grantOnSeat = false;
          this.#options.timers.clear(this.#handshakeTimer);
          this.#handshakeTimer = undefined;
          return channel.grant(message.attempt, fromHex(message.nonce));
        });
        break;
      case 'ack':
        for (const effect of this.#delivery.relayAcked(message.frames)) this.#applyDelivery(effect);
        break;
      case 'error':
        this.#onRelayError(message.code, message.retryAfterMs);
        break;
      case 'partner-refused':
        this.#emit({ type: 'partner-refused', code: message.code, suite: message.suite });
        break;
      default: {
        const never: never = message;
        throw new Error(`unhandled control ${String(never)}`);
      }
    }
    this.#update();
  }

  #onRelayError(code: ErrorCode, retryAfterMs: number | undefined): void {
    if (code === 'resume-failed') {
      // The seat is gone (grace period over, or a new relay): join afresh, new session.
      this.#token = this.#pendingToken = undefined;
      this.#takeSeat();
    } else if (code === 'rate-limited' && this.#computeStatus() === 'handshaking') {
      // No attempt left for now: say so, with the wait, and ask again by itself after it.
      const delayMs = retryAfterMs ?? 1_000;
      this.#emit({ type: 'problem', code, fatal: false, retryAfterMs: delayMs });
      this.#requestHandshake(delayMs);
    } else if (code === 'rate-limited') {
      // A frame was dropped: hold back until the relay's bucket has refilled; the
      // retransmission timer sends what was lost.
      this.#pacer.pause(retryAfterMs ?? 1_000, this.#options.now());
      this.#emit({ type: 'problem', code, fatal: false });
    } else if (code === 'suite-mismatch' && this.#seated) {
      // Someone with another version of Duet tried this room: we stay; one page must be reloaded.
      this.#emit({ type: 'problem', code, fatal: false });
    } else if (FATAL_RELAY_CODES.has(code)) {
      this.#end('fatal', code);
    } else if (code !== 'no-partner') {
      // `no-partner` only means a frame crossed the partner's departure: it is sent again later.
      this.#emit({ type: 'problem', code, fatal: false });
    }
  }

  #setPartner(state: PartnerState): void {
    this.#partner = state;
    this.#emit({ type: 'partner', state });
  }

  /** The partner is connected: carry on where we were, or start the channel. */
  #partnerConnected(): void {
    if (this.#channelReady) this.#pathComplete();
    else if (!this.#channelFailed) this.#startChannel();
  }

  /** A new partner or a new seat: per-session secrets go, the conversation's messages stay. */
  #forgetSession(): void {
    this.#grantOnSeat = false;
    this.#endDirect();
    this.#channel.reset();
    this.#channelStarted = false;
    this.#channelReady = false;
  }

  #startChannel(): void {
    const role = this.#role;
    if (!role) return;
    this.#channelStarted = true;
    this.#run((channel) => channel.start(role));
  }

  #requestHandshake(delayMs: number): void {
    this.#options.timers.clear(this.#handshakeTimer);
    this.#handshakeTimer = undefined;
    // Without a back-off, at once: a timer of 0 would wait behind the page's rendering.
    if (delayMs === 0) return this.#sendControl({ type: 'handshake' });
    this.#handshakeTimer = this.#options.timers.set(() => this.#sendControl({ type: 'handshake' }), delayMs);
  }

  // --- The channel -----------------------------------------------------------------------

  /**
   * Runs channel work one step at a time, in arrival order, and carries out its effects.
   * `skipped` is called instead of the step if the conversation has ended by its turn.
   */
  #run(step: (channel: SecureChannel) => Promise<ChannelEffect[] | void>, skipped?: () => void): void {
    this.#queue = this.#queue.then(async () => {
      if (this.#ended) return skipped?.();
      try {
        const effects = await step(this.#channel);
        if (effects) for (const effect of effects) this.#apply(effect);
      } catch (error) {
        this.#emit({
          type: 'problem',
          code: isDuetError(error) ? error.code : 'handshake-failed',
          fatal: false,
        });
      }
      this.#update();
    });
  }

  #apply(effect: ChannelEffect): void {
    switch (effect.type) {
      case 'transmit':
        // Only the handshake transmits outside `send`: a new session is starting, on the relay.
        this.#endDirect();
        this.#transmit(effect.frame);
        break;
      case 'request-handshake':
        this.#requestHandshake(
          this.#grantOnSeat
            ? GRANT_ON_SEAT_WAIT_MS
            : (HANDSHAKE_BACKOFF_MS[Math.min(this.#failedAttempts, HANDSHAKE_BACKOFF_MS.length - 1)] ?? 0),
        );
        break;
      case 'ready':
        this.#channelReady = true;
        this.#failedAttempts = 0;
        if (effect.safetyCode) this.#emit({ type: 'safety-code', code: effect.safetyCode });
        this.#endDirect();
        this.#setPath(this.#paths.path);
        if (this.#dialer && this.#role) this.#applyDialer(this.#dialer.start(this.#role));
        this.#pathComplete();
        break;
      case 'partner-retried':
        this.#emit({ type: 'partner-retried' });
        break;
      case 'message':
        this.#onPlaintext(effect.text);
        break;
      case 'data':
        if (this.#payloads) this.#payloads.receive(effect.bytes);
        else this.#emit({ type: 'problem', code: 'bad-frame', fatal: false });
        break;
      case 'warning':
        this.#emit({ type: 'problem', code: effect.code, fatal: false });
        break;
      case 'failed':
        this.#endDirect();
        this.#channelReady = false;
        this.#channelFailed = true;
        this.#failedAttempts += 1;
        this.#emit({ type: 'problem', code: effect.code, fatal: true });
        break;
      default: {
        const never: never = effect;
        throw new Error(`unhandled effect ${String(never)}`);
      }
    }
  }

  #onPlaintext(text: string): void {
    let effects: DeliveryEffect[];
    try {
      effects = this.#delivery.receive(text);
    } catch (error) {
      this.#emit({ type: 'problem', code: isDuetError(error) ? error.code : 'bad-frame', fatal: false });
      return;
    }
    let progress = false;
    for (const effect of effects) {
      this.#applyDelivery(effect);
      if (effect.type === 'delivery' && effect.status === 'delivered') progress = true;
    }
    if (progress) {
      this.#retransmitDelayMs = RETRANSMIT_MIN_MS;
      this.#armRetransmit();
    }
  }

  #applyDelivery(effect: DeliveryEffect): void {
    switch (effect.type) {
      case 'incoming':
        this.#emit({ type: 'incoming', text: effect.text });
        break;
      case 'delivery':
        this.#emit(effect);
        break;
      case 'receipt-due':
        if (!this.#receiptQueued) {
          this.#receiptQueued = true;
          this.#run(() => this.#sendReceipt());
        }
        break;
      case 'path':
        this.#applyPaths(this.#paths.message(effect.message));
        if (this.#dialer) {
          this.#applyDialer(this.#dialer.message(effect.message));
          if (effect.message.t === 'prefs')
            this.#emit({ type: 'partner-direct', allowed: effect.message.direct });
        }
        break;
      default: {
        const never: never = effect;
        throw new Error(`unhandled delivery effect ${String(never)}`);
      }
    }
  }

  /** One receipt for a burst of incoming messages: it covers everything shown so far. */
  async #sendReceipt(): Promise<void> {
    this.#receiptQueued = false;
    if (!this.#canSendControl() || this.#mustWait()) return;
    const receipt = this.#delivery.takeReceipt();
    if (receipt === undefined) return;
    const effects = await this.#channel.send(receipt);
    for (const effect of effects) {
      if (effect.type === 'transmit') this.#route(effect.frame, { kind: 'control' });
      else this.#apply(effect);
    }
  }

  /** Messages may be sealed: a path can take them (on the direct link, within its window). */
  #canSendMessages(): boolean {
    this.#syncRelay();
    return this.#channelReady && this.#paths.canSendData;
  }

  /** Receipts and path messages may be sealed: a path can take them. */
  #canSendControl(): boolean {
    this.#syncRelay();
    return this.#channelReady && this.#paths.canSendControl;
  }

  /** The path to the partner is (again) complete: everything unconfirmed goes out once more. */
  #pathComplete(): void {
    this.#linkUp();
    this.#payloadsUp();
  }

  /** Payloads (files) go out again from the receiver's confirmed point, if a path carries them. */
  #payloadsUp(): void {
    if (!this.#canSendControl()) return;
    this.#pathUp = true;
    this.#payloads?.pathUp();
  }

  /** Messages not yet confirmed go out once more (also when no receipt came for a while). */
  #linkUp(): void {
    this.#linkEpoch += 1;
    this.#run(() => this.#flush());
  }

  /** One payload through the channel, in turn with the messages (PayloadPort.send). */
  #sendPayload(bytes: Payload): Promise<boolean> {
    return new Promise((resolve) => {
      // Arrows passed straight on, not a named closure: under tsx a named one also gets its
      // name defined, once per file chunk here.
      this.#run(
        (channel) => this.#sealPayload(channel, bytes, resolve),
        () => resolve(false),
      );
    });
  }

  /** `#sendPayload`'s turn: seals and routes the payload; `done` says whether a path took it. */
  async #sealPayload(channel: SecureChannel, bytes: Payload, done: (sent: boolean) => void): Promise<void> {
    let sent = false;
    try {
      if (!this.#canSendMessages()) return;
      for (const effect of await channel.send(bytes)) {
        if (effect.type === 'transmit') sent = this.#route(effect.frame, { kind: 'data' });
        else this.#apply(effect);
      }
    } finally {
      done(sent);
    }
  }

  /** If messages wait for a receipt, sends them again after the current delay unless one comes. */
  #armRetransmit(): void {
    this.#options.timers.clear(this.#retransmitTimer);
    this.#retransmitTimer = undefined;
    if (this.#ended || !this.#delivery.awaitingReceipts()) return;
    this.#retransmitTimer = this.#options.timers.set(() => {
      this.#retransmitTimer = undefined;
      this.#retransmitDelayMs = Math.min(2 * this.#retransmitDelayMs, RETRANSMIT_MAX_MS);
      // Without a path to the partner, the next link-up sends everything anyway.
      if (this.#canSendMessages()) this.#linkUp();
    }, this.#retransmitDelayMs);
  }

  /** Transmits, in order, every message the suite's delivery says is due, once per link-up. */
  async #flush(): Promise<void> {
    if (this.#canSendMessages() && this.#retransmitTimer === undefined) this.#armRetransmit();
    for (const message of [...this.#delivery.due()]) {
      if (!this.#canSendMessages()) return;
      if (message.linkEpoch === this.#linkEpoch) continue;
      if (this.#mustWait()) {
        // The wait for a receipt starts once this link-up's messages are all out.
        this.#options.timers.clear(this.#retransmitTimer);
        this.#retransmitTimer = undefined;
        return;
      }
      let effects: ChannelEffect[];
      const sealed = this.#delivery.sealed(message);
      try {
        effects = sealed
          ? [{ type: 'transmit', frame: sealed }]
          : await this.#channel.send(this.#delivery.plaintext(message));
      } catch (error) {
        if (this.#delivery.fail(message.id))
          this.#emit({ type: 'delivery', id: message.id, status: 'failed' });
        this.#emit({ type: 'problem', code: isDuetError(error) ? error.code : 'bad-input', fatal: false });
        continue;
      }
      message.linkEpoch = this.#linkEpoch;
      for (const effect of effects) {
        if (effect.type === 'transmit') this.#route(effect.frame, { kind: 'data' }, message.id);
        else this.#apply(effect);
      }
    }
  }

  // --- The paths: relay or direct -----------------------------------------------------------

  /**
   * Sends one sealed frame (of message `id`, if it is one) on the path the switch picks; true if
   * a path took it.
   */
  #route(frame: Uint8Array, tag: FrameTag, id?: number): boolean {
    let sent = false;
    for (const effect of this.#paths.send(frame, tag)) {
      if (effect.type === 'relay') {
        const number = this.#transmit(effect.frame);
        sent = number !== undefined;
        if (number !== undefined && id !== undefined) this.#delivery.transmitted(id, number, effect.frame);
      } else if (effect.type === 'direct') {
        const link = this.#directLink;
        link?.send(effect.frame);
        sent = link !== undefined;
        // On the direct link, `sent` means handed to it: no relay will acknowledge it.
        if (id !== undefined) for (const change of this.#delivery.handedOver(id)) this.#applyDelivery(change);
      } else this.#applyPaths([effect]);
    }
    return sent;
  }

  /** One frame of the partner's, from either path, in arrival order. */
  #admit(path: PathName, frame: Uint8Array, attempt?: number): Promise<void> {
    return this.#deliver(() => this.#applyPaths(this.#paths.admit(path, frame, attempt)));
  }

  /**
   * Reads the frames the path switch releases, in order, within one step of the queue: a path
   * message read on the way may release more (held frames), which are read right after it.
   */
  async #deliver(release?: () => void): Promise<void> {
    this.#delivering = true;
    try {
      release?.();
      for (let frame = this.#deliveries.shift(); frame; frame = this.#deliveries.shift()) {
        for (const effect of await this.#channel.receive(frame)) this.#apply(effect);
      }
    } finally {
      this.#delivering = false;
    }
  }

  /** Seals path messages back to back (nothing else in between) and routes their frames. */
  async #seal(messages: PathMessage[]): Promise<void> {
    for (const message of messages) {
      if (!this.#channelReady) return;
      const effects = await this.#channel.send(this.#delivery.pathPlaintext(message));
      for (const effect of effects) {
        if (effect.type === 'transmit') this.#route(effect.frame, { kind: 'control', message });
        else this.#apply(effect);
      }
    }
  }

  #applyPaths(effects: PathSwitchEffect[]): void {
    for (const effect of effects) {
      switch (effect.type) {
        case 'relay':
          this.#transmit(effect.frame);
          break;
        case 'direct':
          this.#directLink?.send(effect.frame);
          break;
        case 'deliver':
          this.#deliveries.push(effect.frame);
          if (!this.#delivering) this.#run(() => this.#deliver());
          break;
        case 'seal':
          this.#run(() => this.#seal(effect.messages));
          break;
        case 'give-up':
          if (this.#dialer) this.#applyDialer(this.#dialer.failed());
          break;
        case 'path':
          this.#setPath(effect.path);
          if (effect.path === 'direct' && this.#dialer) this.#applyDialer(this.#dialer.confirmed());
          break;
        case 'resend':
          this.#linkUp();
          this.#payloadsUp();
          break;
        case 'flush':
          this.#run(() => this.#flush());
          break;
        case 'arm':
          this.#armPathTimer(effect.timer, effect.ms, () =>
            this.#applyPaths(this.#paths.timeout(effect.timer)),
          );
          break;
        case 'disarm':
          this.#disarmPathTimer(effect.timer);
          break;
        default: {
          const never: never = effect;
          throw new Error(`unhandled path effect ${String(never)}`);
        }
      }
    }
  }

  #applyDialer(effects: DialerEffect[]): void {
    const dialer = this.#dialer;
    if (!dialer) return;
    for (const effect of effects) {
      switch (effect.type) {
        case 'connect':
          this.#openDirect(effect.attempt, effect.initiator);
          break;
        case 'signal':
          this.#directLink?.signal(effect.signal);
          break;
        case 'close':
          this.#closeDirect();
          break;
        case 'seal':
          this.#run(() => this.#seal([effect.message]));
          break;
        case 'arm':
          this.#armPathTimer(effect.timer, effect.ms, () => this.#applyDialer(dialer.timeout(effect.timer)));
          break;
        case 'disarm':
          this.#disarmPathTimer(effect.timer);
          break;
        default: {
          const never: never = effect;
          throw new Error(`unhandled dialer effect ${String(never)}`);
        }
      }
    }
  }

  #openDirect(attempt: number, initiator: boolean): void {
    const dialer = this.#dialer;
    const connect = this.#options.direct?.connect;
    if (!dialer || !connect) return;
    this.#closeDirect();
    const link: DirectLink = connect(
      { initiator },
      {
        onSignal: (signal) => {
          if (this.#directLink === link) this.#applyDialer(dialer.localSignal(signal));
        },
        onOpen: () => {
          if (this.#directLink !== link) return;
          this.#applyDialer(dialer.opened());
          this.#applyPaths(this.#paths.linkOpened());
        },
        onFrame: (frame) => {
          if (this.#directLink === link) this.#run(() => this.#admit('direct', frame, attempt));
        },
        onClose: () => {
          if (this.#directLink !== link) return;
          this.#directLink = undefined;
          this.#applyPaths(this.#paths.linkDown());
          this.#applyDialer(dialer.failed());
        },
      },
    );
    this.#directLink = link;
    this.#applyPaths(this.#paths.linkStarted(attempt));
  }

  #closeDirect(): void {
    const link = this.#directLink;
    this.#directLink = undefined;
    link?.close();
    this.#applyPaths(this.#paths.linkDown());
  }

  /** The session ended (or is being replaced): no link, no path, nothing said to the partner. */
  #endDirect(): void {
    if (this.#dialer) this.#applyDialer(this.#dialer.stop());
    this.#closeDirect();
    this.#applyPaths(this.#paths.reset());
    this.#deliveries.length = 0;
  }

  /** Tells the path switch whether the relay can carry frames to the partner right now. */
  #syncRelay(): void {
    const usable = this.#linkOpen && this.#seated && this.#partner === 'present';
    if (usable === this.#relayUsable) return;
    this.#relayUsable = usable;
    this.#applyPaths(this.#paths.setRelayUsable(usable));
  }

  #setPath(path: PathName): void {
    if (path === this.#shownPath) return;
    this.#shownPath = path;
    this.#emit({ type: 'path', path });
  }

  #armPathTimer(name: string, ms: number, callback: () => void): void {
    this.#disarmPathTimer(name);
    this.#pathTimers.set(
      name,
      this.#options.timers.set(() => {
        this.#pathTimers.delete(name);
        if (!this.#ended) callback();
      }, ms),
    );
  }

  #disarmPathTimer(name: string): void {
    if (!this.#pathTimers.has(name)) return;
    this.#options.timers.clear(this.#pathTimers.get(name));
    this.#pathTimers.delete(name);
  }

  // --- State for the UI -------------------------------------------------------------------

  #end(why: 'lost' | 'fatal', code: ErrorCode): void {
    this.#endDirect();
    this.#ended = why;
    this.#options.timers.clear(this.#reconnectTimer);
    this.#options.timers.clear(this.#retransmitTimer);
    this.#options.timers.clear(this.#paceTimer);
    this.#link?.close(1000, code);
    this.#link = undefined;
    this.#linkOpen = false;
    for (const id of this.#delivery.failAll()) this.#emit({ type: 'delivery', id, status: 'failed' });
    this.#payloads?.ended(code);
    this.#emit({ type: 'problem', code, fatal: true });
    this.#update();
  }

  #computeStatus(): ConversationStatus {
    if (this.#ended === 'left' || this.#ended === 'lost') return 'closed';
    if (this.#ended === 'fatal') return 'failed';
    if (!this.#seated) return this.#everSeated ? 'reconnecting' : 'connecting';
    if (this.#partner === 'absent') return 'waiting';
    if (this.#channelFailed) return 'failed';
    return this.#channelReady ? 'ready' : 'handshaking';
  }

  #update(): void {
    this.#syncRelay();
    if (this.#pathUp && !this.#canSendControl()) {
      this.#pathUp = false;
      this.#payloads?.pathDown();
    }
    const status = this.#computeStatus();
    if (status === this.#status) return;
    this.#status = status;
    this.#emit({ type: 'status', status });
  }

  /**
   * Both seats just taken, a fresh session: the grant and the partner's frames come next. The
   * page shows the partner's arrival with the secure channel (or after SEAT_HOLD_MAX_MS), and
   * meanwhile its main thread is free for the handshake (event-hold.ts).
   */
  #holdForHandshake(): void {
    if (this.#options.suite === 'modern') this.#events.hold();
  }

  #emit(event: ConversationEvent): void {
    this.#events.emit(event);
  }
}
