/**
 * One chat session: the state the chat view shows, and the wiring between the relay transport
 * and the suite's channel. Components render this state; they never touch sockets or crypto.
 */
import { fromHex } from '@duet/core/bytes';
import { isDuetError, type ErrorCode } from '@duet/core/errors';
import type { Role, ServerMessage, SuiteId } from '@duet/core/protocol/control';
import type { ChannelEffect, SecureChannel } from '@duet/core/session/channel';
import { createChannel, type ChannelSettings } from './channels.ts';
import { connect, type Transport } from './transport.ts';

export type Status =
  'idle' | 'connecting' | 'waiting' | 'handshaking' | 'ready' | 'reconnecting' | 'closed' | 'failed';
export type Direction = 'in' | 'out';
export type DeliveryStatus = 'sending' | 'sent' | 'delivered' | 'failed';

export interface ChatMessage {
  id: number;
  direction: Direction;
  text: string;
  /** Milliseconds since the epoch, when the message was sent or received here. */
  time: number;
  status?: DeliveryStatus;
}

export interface Banner {
  code: ErrorCode;
  /** Fatal errors end the session; others are warnings and the chat goes on. */
  fatal: boolean;
}

/** Relay errors after which this connection cannot chat in this room. */
const FATAL_RELAY_CODES = new Set<ErrorCode>(['room-full', 'suite-mismatch', 'bad-room', 'bad-suite']);

/** Client-side back-off before asking for another handshake attempt after a failure (ms). */
const HANDSHAKE_BACKOFF_MS = [0, 1_000, 2_000, 4_000, 8_000, 16_000, 30_000];

export class ChatSession {
  status = $state<Status>('idle');
  messages = $state<ChatMessage[]>([]);
  banner = $state<Banner | null>(null);
  partnerPresent = $state(false);
  room = $state('');
  suite = $state<SuiteId>('modern');
  /** The passphrase failed: the view offers to retry with another one. */
  canRetry = $derived(this.status === 'failed' && this.banner?.code === 'passphrase-mismatch');

  #transport: Transport | undefined;
  #channel: SecureChannel | undefined;
  #role: Role | undefined;
  /** The channel was started for the partner now present (false after partner-left). */
  #started = false;
  #queue: Promise<void> = Promise.resolve();
  #nextId = 0;
  #failedAttempts = 0;
  #backoffTimer: ReturnType<typeof setTimeout> | undefined;
  readonly #url: string;

  constructor(url: string) {
    this.#url = url;
  }

  /** Joins a room: connects to the relay, then the channel takes over once the partner is there. */
  async join(settings: ChannelSettings): Promise<void> {
    this.room = settings.room;
    this.suite = settings.suite;
    this.messages = [];
    this.banner = null;
    this.status = 'connecting';
    try {
      this.#channel = await createChannel(settings);
    } catch (error) {
      this.#fail(isDuetError(error) ? error.code : 'bad-input');
      return;
    }
    this.#transport = connect(this.#url, {
      onOpen: () =>
        this.#transport?.sendControl({ type: 'join', room: settings.room, suite: settings.suite }),
      onControl: (message) => this.#onControl(message),
      onFrame: (frame) => this.#run((channel) => channel.receive(frame)),
      onClose: (intentional) => this.#onClose(intentional),
      onProtocolError: () => this.#warn('bad-frame'),
    });
  }

  send(text: string): void {
    if (this.status !== 'ready' || text.length === 0) return;
    const message: ChatMessage = {
      id: this.#nextId++,
      direction: 'out',
      text,
      time: Date.now(),
      status: 'sending',
    };
    this.messages.push(message);
    const id = message.id;
    this.#run(async (channel) => {
      try {
        const effects = await channel.send(text);
        this.#setDelivery(id, 'sent');
        return effects;
      } catch (error) {
        this.#setDelivery(id, 'failed');
        if (isDuetError(error)) this.#warn(error.code);
        return [];
      }
    });
  }

  /** Tries again with a new passphrase after `passphrase-mismatch`, on the same connection. */
  retry(passphrase: string): void {
    this.banner = null;
    this.status = this.partnerPresent ? 'handshaking' : 'waiting';
    this.#run((channel) => channel.retry(passphrase));
    // A partner who arrived while we were failed has not been started yet.
    if (this.partnerPresent && !this.#started) this.#startChannel();
  }

  leave(): void {
    clearTimeout(this.#backoffTimer);
    this.#transport?.sendControl({ type: 'leave' });
    this.#transport?.close();
    this.#transport = undefined;
    this.#channel?.reset();
    this.#channel = undefined;
    this.#started = false;
    this.partnerPresent = false;
    this.status = 'idle';
  }

  dismissBanner(): void {
    if (!this.banner?.fatal) this.banner = null;
  }

  #onControl(message: ServerMessage): void {
    switch (message.type) {
      case 'joined':
        this.#role = message.role;
        if (message.partner) this.#partnerArrived();
        else this.status = 'waiting';
        break;
      case 'partner-joined':
        this.#partnerArrived();
        break;
      case 'partner-left':
        this.partnerPresent = false;
        this.#started = false;
        this.#channel?.reset();
        if (this.status !== 'failed') this.status = 'waiting';
        break;
      case 'handshake':
        this.#run((channel) => channel.grant(message.attempt, fromHex(message.nonce)));
        break;
      case 'error':
        if (message.code === 'rate-limited' && this.status === 'handshaking') {
          this.#requestHandshake(message.retryAfterMs ?? 1_000);
        } else if (FATAL_RELAY_CODES.has(message.code)) {
          this.#fail(message.code);
          this.#transport?.close();
        } else {
          this.#warn(message.code);
        }
        break;
      default: {
        const never: never = message;
        throw new Error(`unhandled control ${String(never)}`);
      }
    }
  }

  #partnerArrived(): void {
    this.partnerPresent = true;
    if (this.status === 'failed') return;
    this.status = 'handshaking';
    this.#startChannel();
  }

  #startChannel(): void {
    const role = this.#role;
    if (!role) return;
    this.#started = true;
    this.#run((channel) => channel.start(role));
  }

  /** Runs channel calls one at a time, in arrival order, and carries out their effects. */
  #run(step: (channel: SecureChannel) => Promise<ChannelEffect[]>): void {
    this.#queue = this.#queue.then(async () => {
      const channel = this.#channel;
      if (!channel) return;
      try {
        const effects = await step(channel);
        if (channel === this.#channel) for (const effect of effects) this.#apply(effect);
      } catch (error) {
        this.#warn(isDuetError(error) ? error.code : 'handshake-failed');
      }
    });
  }

  #apply(effect: ChannelEffect): void {
    switch (effect.type) {
      case 'transmit':
        this.#transport?.sendFrame(effect.frame);
        break;
      case 'request-handshake':
        this.#requestHandshake(
          HANDSHAKE_BACKOFF_MS[Math.min(this.#failedAttempts, HANDSHAKE_BACKOFF_MS.length - 1)] ?? 0,
        );
        break;
      case 'ready':
        this.#failedAttempts = 0;
        this.status = 'ready';
        if (this.banner?.fatal === false && this.banner.code !== 'decrypt-failed') this.banner = null;
        break;
      case 'message':
        this.messages.push({ id: this.#nextId++, direction: 'in', text: effect.text, time: Date.now() });
        break;
      case 'warning':
        this.#warn(effect.code);
        break;
      case 'failed':
        this.#failedAttempts++;
        this.#fail(effect.code);
        break;
      default: {
        const never: never = effect;
        throw new Error(`unhandled effect ${String(never)}`);
      }
    }
  }

  #requestHandshake(delayMs: number): void {
    clearTimeout(this.#backoffTimer);
    this.#backoffTimer = setTimeout(() => this.#transport?.sendControl({ type: 'handshake' }), delayMs);
  }

  #onClose(intentional: boolean): void {
    this.#transport = undefined;
    if (intentional || this.status === 'idle' || this.status === 'failed') return;
    this.partnerPresent = false;
    this.status = 'closed';
    this.banner = { code: 'connection-lost', fatal: true };
  }

  #setDelivery(id: number, status: DeliveryStatus): void {
    const message = this.messages.find((m) => m.id === id);
    if (message) message.status = status;
  }

  #warn(code: ErrorCode): void {
    this.banner = { code, fatal: false };
  }

  #fail(code: ErrorCode): void {
    this.status = 'failed';
    this.banner = { code, fatal: true };
  }
}
