/**
 * How messages travel, per suite, behind one seam: what goes inside the encryption, what a
 * decrypted plaintext means, and what settles a message. `createDelivery` is the one place that
 * chooses; Conversation only drives the machine it gets (docs/delivery.md).
 *
 *   modern  receipted: an envelope (sender instance, message id) inside the encryption and
 *           end-to-end receipts; unconfirmed messages are sent again until a receipt covers
 *           them, and the inbox drops duplicates: exactly once, in order.
 *   des     relay-acked: the plaintext is the message's UTF-8 text and nothing else, as the
 *           original design has it, so there are no ids and no receipts. The relay's `ack`
 *           settles a message (`sent` is final); a frame the relay never acknowledged is sent
 *           again on the next connection, byte for byte: at least once. The frame's random IV is
 *           the only id there is: a Duet receiver drops a frame it has just seen
 *           (des-channel.ts), the original's client shows it twice.
 *
 * Only `modern` carries path messages (the direct path's signalling, switch and heartbeat,
 * path-messages.ts): they need authentication, which `des` does not have.
 */
import { toHex } from '../bytes.ts';
import type { SuiteId } from '../protocol/control.ts';
import { duetError } from '../errors.ts';
import { decodeEnvelope, encodeEnvelope } from './envelope.ts';
import { Inbox } from './inbox.ts';
import { Outbox, type DeliveryStatus, type OutgoingMessage } from './outbox.ts';
import type { PathMessage } from './path-messages.ts';

export type DeliveryEffect =
  /** Show this text from the partner. */
  | { type: 'incoming'; text: string }
  /** An outgoing message changed state. */
  | { type: 'delivery'; id: number; status: DeliveryStatus }
  /** The partner's messages should be acknowledged: call `takeReceipt` when the path is up. */
  | { type: 'receipt-due' }
  /** A path message from the partner (only when `directPath`). */
  | { type: 'path'; message: PathMessage };

export interface Delivery {
  /** Whether the partner confirms messages; if so, unconfirmed ones are also resent on a timer. */
  readonly receipts: boolean;
  /** Whether this suite may use a direct path: it carries authenticated path messages. */
  readonly directPath: boolean;
  /** Queues a message (status `sending`). */
  add(text: string): OutgoingMessage;
  /** Messages to transmit once the path to the partner is (again) complete, oldest first. */
  due(): readonly OutgoingMessage[];
  /** Whether some message still waits for the partner's receipt. */
  awaitingReceipts(): boolean;
  /** The plaintext the channel encrypts for `message`. */
  plaintext(message: OutgoingMessage): string;
  /** A frame to send again exactly as it went out before (`des`), or undefined to encrypt afresh. */
  sealed(message: OutgoingMessage): Uint8Array | undefined;
  /** The passphrase changed: frames sealed under the old key are encrypted afresh. */
  rekeyed(): void;
  /** `message` went out as binary frame number `frame` (1-based) of the current connection, as `bytes`. */
  transmitted(id: number, frame: number, bytes: Uint8Array): void;
  /** The relay's `ack`: it has read `frames` binary frames on this connection. */
  relayAcked(frames: number): DeliveryEffect[];
  /** `message` went out on the direct link, which no relay acknowledges: `sent` now. */
  handedOver(id: number): DeliveryEffect[];
  /** The plaintext of a path message. Throws DuetError('bad-input') unless `directPath`. */
  pathPlaintext(message: PathMessage): string;
  /** A new connection: frame numbers start again. */
  newLink(): void;
  /** A plaintext the channel decrypted. Throws DuetError('bad-frame') if it means nothing here. */
  receive(plaintext: string): DeliveryEffect[];
  /** The receipt plaintext to send now, if one is due (clears it). */
  takeReceipt(): string | undefined;
  /** Gives up on one message (it could not be encrypted); true if it was pending. */
  fail(id: number): boolean;
  /** Gives up on everything pending; returns the ids. */
  failAll(): number[];
}

/** The delivery machine for a suite. `random` draws the `modern` sender instance. */
export function createDelivery(suite: SuiteId, random: (length: number) => Uint8Array): Delivery {
  switch (suite) {
    case 'modern':
      return new ReceiptedDelivery(toHex(random(8)));
    case 'des':
      return new RelayAckedDelivery();
    default: {
      const never: never = suite;
      throw new Error(`unknown suite ${String(never)}`);
    }
  }
}

/** What both suites do alike: an outbox, numbered from 1, and the relay's acks marking `sent`. */
abstract class OutboxDelivery {
  protected readonly outbox: Outbox;

  constructor(outbox: Outbox) {
    this.outbox = outbox;
  }

  add(text: string): OutgoingMessage {
    return this.outbox.add(text);
  }

  transmitted(id: number, frame: number, _bytes: Uint8Array): void {
    this.outbox.transmitted(id, frame);
  }

  sealed(_message: OutgoingMessage): Uint8Array | undefined {
    return undefined;
  }

  rekeyed(): void {}

  relayAcked(frames: number): DeliveryEffect[] {
    return this.outbox.relayAcked(frames).map((id) => ({ type: 'delivery', id, status: 'sent' }));
  }

  handedOver(id: number): DeliveryEffect[] {
    return this.outbox.markSent(id) ? [{ type: 'delivery', id, status: 'sent' }] : [];
  }

  newLink(): void {
    this.outbox.newLink();
  }

  fail(id: number): boolean {
    return this.outbox.fail(id);
  }

  failAll(): number[] {
    return this.outbox.failAll();
  }
}

/** `modern`: envelopes, an inbox that shows each message once and in order, and receipts. */
export class ReceiptedDelivery extends OutboxDelivery implements Delivery {
  readonly receipts = true;
  readonly directPath = true;
  readonly #inbox = new Inbox();
  /** This tab's sender instance: a partner who sees a new one starts counting afresh. */
  readonly #instance: string;
  #receiptDue: { instance: string; upTo: number } | undefined;

  constructor(instance: string) {
    super(new Outbox());
    this.#instance = instance;
  }

  due(): readonly OutgoingMessage[] {
    return this.outbox.undelivered();
  }

  awaitingReceipts(): boolean {
    return this.outbox.undelivered().length > 0;
  }

  plaintext(message: OutgoingMessage): string {
    return encodeEnvelope({ kind: 'message', instance: this.#instance, id: message.id, text: message.text });
  }

  pathPlaintext(message: PathMessage): string {
    return encodeEnvelope({ kind: 'path', message });
  }

  receive(plaintext: string): DeliveryEffect[] {
    const envelope = decodeEnvelope(plaintext);
    if (envelope.kind === 'path') return [{ type: 'path', message: envelope.message }];
    if (envelope.kind === 'receipt') {
      if (envelope.instance !== this.#instance) return [];
      return this.outbox.receipt(envelope.upTo).map((id) => ({ type: 'delivery', id, status: 'delivered' }));
    }
    const result = this.#inbox.accept(envelope.instance, envelope.id, envelope.text);
    // Duplicates earn a receipt too: the sender resends until one covers them.
    this.#receiptDue = result.receipt;
    return [...result.show.map((text) => ({ type: 'incoming' as const, text })), { type: 'receipt-due' }];
  }

  takeReceipt(): string | undefined {
    const receipt = this.#receiptDue;
    this.#receiptDue = undefined;
    return receipt && encodeEnvelope({ kind: 'receipt', ...receipt });
  }
}

/** `des`: the text is the plaintext, nothing is answered, and the relay's ack settles a message. */
export class RelayAckedDelivery extends OutboxDelivery implements Delivery {
  readonly receipts = false;
  readonly directPath = false;

  constructor() {
    super(new Outbox({ settledBy: 'relay-ack' }));
  }

  /** Only frames no connection has acknowledged: one in flight on this connection will be. */
  due(): readonly OutgoingMessage[] {
    return this.outbox.notOnLink();
  }

  /** Sent again byte for byte, so that the partner can tell the copy by its IV. */
  override transmitted(id: number, frame: number, bytes: Uint8Array): void {
    super.transmitted(id, frame, bytes);
    const message = this.outbox.undelivered().find((m) => m.id === id);
    if (message) message.sealed ??= bytes;
  }

  override sealed(message: OutgoingMessage): Uint8Array | undefined {
    return message.sealed;
  }

  override rekeyed(): void {
    for (const message of this.outbox.undelivered()) message.sealed = undefined;
  }

  awaitingReceipts(): boolean {
    return false;
  }

  plaintext(message: OutgoingMessage): string {
    return message.text;
  }

  pathPlaintext(_message: PathMessage): string {
    throw duetError('bad-input', 'des has no direct path');
  }

  receive(plaintext: string): DeliveryEffect[] {
    return [{ type: 'incoming', text: plaintext }];
  }

  takeReceipt(): undefined {
    return undefined;
  }
}
