/**
 * The state the chat view shows, kept in step with one Conversation (packages/core). The
 * conversation does the work; this class only turns its events into Svelte state and gives it
 * a browser WebSocket and the browser's timers.
 */
import type { ErrorCode } from '@duet/core/errors';
import type { SuiteId } from '@duet/core/protocol/control';
import {
  Conversation,
  type ConversationEvent,
  type ConversationStatus,
  type PartnerState,
} from '@duet/core/session/conversation';
import type { DeliveryStatus } from '@duet/core/session/outbox';
import { createChannel, type ChannelSettings } from '@duet/core/session/suites';
import { browserConnect } from './transport.ts';

/** `idle` is the join view; the rest are the conversation's states. */
export type Status = 'idle' | ConversationStatus;
export type { DeliveryStatus, PartnerState };

export interface ChatMessage {
  /** Unique in the list: `out-<id>` for ours, `in-<n>` for the partner's. */
  key: string;
  /** For outgoing messages, the conversation's message id. */
  id?: number;
  direction: 'in' | 'out';
  text: string;
  /** Milliseconds since the epoch, when the message was sent or shown here. */
  time: number;
  status?: DeliveryStatus;
}

export interface Banner {
  code: ErrorCode;
  /** Fatal errors end the session (or wait for a retry); others are warnings and the chat goes on. */
  fatal: boolean;
}

const browserTimers = {
  set: (callback: () => void, ms: number) => setTimeout(callback, ms),
  clear: (handle: unknown) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

export class ChatSession {
  status = $state<Status>('idle');
  messages = $state<ChatMessage[]>([]);
  banner = $state<Banner | null>(null);
  partner = $state<PartnerState>('absent');
  room = $state('');
  suite = $state<SuiteId>('modern');
  /** The passphrase failed: the view offers to retry with another one. */
  canRetry = $derived(this.status === 'failed' && this.banner?.code === 'passphrase-mismatch');

  #conversation: Conversation | undefined;
  #incoming = 0;
  readonly #url: string;

  constructor(url: string) {
    this.#url = url;
  }

  async join(settings: ChannelSettings): Promise<void> {
    this.room = settings.room;
    this.suite = settings.suite;
    this.messages = [];
    this.banner = null;
    this.partner = 'absent';
    this.status = 'connecting';
    let channel;
    try {
      channel = await createChannel(settings);
    } catch {
      this.status = 'failed';
      this.banner = { code: 'bad-input', fatal: true };
      return;
    }
    const conversation = new Conversation({
      room: settings.room,
      suite: settings.suite,
      channel,
      connect: browserConnect(this.#url),
      timers: browserTimers,
      onEvent: (event) => {
        if (this.#conversation === conversation) this.#onEvent(event);
      },
    });
    this.#conversation = conversation;
    conversation.start();
  }

  send(text: string): void {
    if (this.status !== 'ready' || text.length === 0) return;
    this.#conversation?.send(text);
  }

  retry(passphrase: string): void {
    this.banner = null;
    this.#conversation?.retry(passphrase);
  }

  leave(): void {
    this.#conversation?.leave();
    this.#conversation = undefined;
    this.partner = 'absent';
    this.status = 'idle';
  }

  dismissBanner(): void {
    if (!this.banner?.fatal) this.banner = null;
  }

  #onEvent(event: ConversationEvent): void {
    switch (event.type) {
      case 'status':
        this.status = event.status;
        // Back to normal: a warning about an earlier frame no longer needs to stand, nor a lost connection.
        if (
          event.status === 'ready' &&
          this.banner &&
          (!this.banner.fatal || this.banner.code === 'connection-lost')
        ) {
          if (this.banner.code !== 'decrypt-failed') this.banner = null;
        }
        if (event.status === 'reconnecting') this.banner = { code: 'connection-lost', fatal: false };
        break;
      case 'partner':
        this.partner = event.state;
        break;
      case 'outgoing':
        this.messages.push({
          key: `out-${event.id}`,
          id: event.id,
          direction: 'out',
          text: event.text,
          time: Date.now(),
          status: 'sending',
        });
        break;
      case 'delivery': {
        const message = this.messages.find((m) => m.direction === 'out' && m.id === event.id);
        if (message) message.status = event.status;
        break;
      }
      case 'incoming':
        this.messages.push({
          key: `in-${this.#incoming++}`,
          direction: 'in',
          text: event.text,
          time: Date.now(),
        });
        break;
      case 'problem':
        this.banner = { code: event.code, fatal: event.fatal };
        break;
      default: {
        const never: never = event;
        throw new Error(`unhandled event ${String(never)}`);
      }
    }
  }
}
