/**
 * Outgoing messages until they are settled: numbered from 1, kept in order, sent again after
 * every reconnect until settled.
 *
 *   sending → sent (the relay acknowledged the frame, or the direct link took it) → delivered
 *   (the partner's receipt)
 *   sending | sent → failed (the message could not be encrypted, or the user left)
 *
 * By default a message is settled by an end-to-end receipt (`modern`). With `settledBy:
 * 'relay-ack'` (`des`, which has no receipts) the relay's ack settles it: `sent` is final.
 */
export type DeliveryStatus = 'sending' | 'sent' | 'delivered' | 'failed';

export interface OutgoingMessage {
  readonly id: number;
  readonly text: string;
  status: DeliveryStatus;
  /** The conversation's: the link-up this message was last transmitted on. */
  linkEpoch?: number;
  /** `des`: the frame it first went out as, sent again as it is (delivery.ts). */
  sealed?: Uint8Array | undefined;
}

export interface OutboxOptions {
  /** What settles a message: the partner's receipt (default) or the relay's ack. */
  settledBy?: 'receipt' | 'relay-ack';
}

export class Outbox {
  readonly #pending: OutgoingMessage[] = [];
  /** Frame numbers on the current connection that carried each message, for relay acks. */
  #framesOnLink: { frame: number; id: number }[] = [];
  #nextId = 1;
  readonly #settledByAck: boolean;

  constructor(options: OutboxOptions = {}) {
    this.#settledByAck = options.settledBy === 'relay-ack';
  }

  /** Adds a message; it is transmitted by whoever drains `undelivered()`. */
  add(text: string): OutgoingMessage {
    const message: OutgoingMessage = { id: this.#nextId++, text, status: 'sending' };
    this.#pending.push(message);
    return message;
  }

  /** Everything not yet settled, oldest first. */
  undelivered(): readonly OutgoingMessage[] {
    return this.#pending;
  }

  /** Unsettled messages with no frame on the current connection waiting for the relay's ack. */
  notOnLink(): OutgoingMessage[] {
    const onLink = new Set(this.#framesOnLink.map((f) => f.id));
    return this.#pending.filter((m) => !onLink.has(m.id));
  }

  /** Message `id` went out as binary frame number `frame` (1-based) of the current connection. */
  transmitted(id: number, frame: number): void {
    this.#framesOnLink.push({ frame, id });
  }

  /** The relay has received `frames` frames on this connection; returns the ids now `sent`. */
  relayAcked(frames: number): number[] {
    const changed: number[] = [];
    while (this.#framesOnLink.length > 0 && this.#framesOnLink[0]!.frame <= frames) {
      const { id } = this.#framesOnLink.shift()!;
      const index = this.#pending.findIndex((m) => m.id === id);
      const message = this.#pending[index];
      if (message?.status === 'sending') {
        message.status = 'sent';
        changed.push(id);
      }
      if (message && this.#settledByAck) this.#pending.splice(index, 1);
    }
    return changed;
  }

  /** Message `id` went out on a path with no relay acknowledgement; true if it is now `sent`. */
  markSent(id: number): boolean {
    const message = this.#pending.find((m) => m.id === id);
    if (message?.status !== 'sending') return false;
    message.status = 'sent';
    return true;
  }

  /** A new connection: frame numbers start again, and un-acked frames may be lost. */
  newLink(): void {
    this.#framesOnLink = [];
  }

  /** The partner showed everything up to `upTo`; returns the ids now `delivered`. */
  receipt(upTo: number): number[] {
    const delivered: number[] = [];
    while (this.#pending.length > 0 && this.#pending[0]!.id <= upTo) {
      const message = this.#pending.shift()!;
      message.status = 'delivered';
      delivered.push(message.id);
    }
    return delivered;
  }

  /** Gives up on one message (it could not be encrypted); returns true if it was pending. */
  fail(id: number): boolean {
    const index = this.#pending.findIndex((m) => m.id === id);
    if (index < 0) return false;
    this.#pending[index]!.status = 'failed';
    this.#pending.splice(index, 1);
    return true;
  }

  /** Gives up on everything pending; returns their ids. */
  failAll(): number[] {
    const ids = this.#pending.map((m) => m.id);
    for (const message of this.#pending) message.status = 'failed';
    this.#pending.length = 0;
    this.#framesOnLink = [];
    return ids;
  }
}
