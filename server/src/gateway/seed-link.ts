/**
 * One TCP connection from the original design's client (seed/python/client.py) as a relay
 * `Link`: to the relay it is a peer like a WebSocket one; to the Python client it is the
 * original relay. docs/protocol.md ("The seed gateway") describes what each side sees.
 *
 * The original speaks no control protocol and has no framing: every `recv(1024)` is taken for
 * one frame, every `send` is one. So, on the client's behalf, this link:
 *   - joins the gateway's `des` room as soon as it is attached;
 *   - takes each TCP read as one binary frame;
 *   - holds the client's frames while it has no partner and sends them when one is there (a
 *     Duet client holds its own; the original cannot), up to HELD_FRAMES_MAX;
 *   - writes the partner's frames one at a time, PACE_MS apart, so that each lands in a read
 *     of its own as far as the network allows;
 *   - renders every notice as nothing: the client would take any byte for ciphertext.
 */
import type { Socket } from 'node:net';
import { SUITE_VERSIONS, type ServerMessage } from '@duet/core/protocol/control';
import type { Link, LinkEvents } from '../relay/link.ts';

/** Frames held for a client with no partner; later ones are dropped (and counted). */
export const HELD_FRAMES_MAX = 100;
/** Gap between two frames written to the client, so that its reads do not merge them. */
export const PACE_MS = 20;

/** What the gateway wants to know about one connection's life (metrics and logs). */
export interface SeedLinkObserver {
  /** The relay refused the seat (`room-full`, `suite-mismatch`, `server-busy`, …): the connection is closed. */
  refused(code: string): void;
  /** A held frame was dropped: HELD_FRAMES_MAX were already waiting. */
  dropped(): void;
}

export interface SeedLinkOptions {
  socket: Socket;
  room: string;
  maxFrameBytes: number;
  observer: SeedLinkObserver;
  /** How long `close` waits for the client to close its side before the socket is destroyed. */
  closeGraceMs: number;
}

export class SeedLink implements Link {
  readonly #socket: Socket;
  readonly #options: SeedLinkOptions;
  #events: LinkEvents | undefined;
  #closing = false;
  #partnerPresent = false;
  /** The client's frames waiting for a partner. */
  readonly #held: Buffer[] = [];
  /** The partner's frames waiting for their turn on the wire. */
  readonly #outgoing: Buffer[] = [];
  #outgoingBytes = 0;
  #paceTimer: NodeJS.Timeout | undefined;

  constructor(options: SeedLinkOptions) {
    this.#options = options;
    this.#socket = options.socket;
  }

  /** Hands the connection to the relay (`Relay.attach`) and joins the room. */
  start(attach: (link: Link) => LinkEvents): void {
    const events = attach(this);
    this.#events = events;
    const socket = this.#socket;
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.#onRead(chunk));
    socket.on('error', () => undefined); // 'close' follows
    // No resume over TCP: whatever ended the connection, the seat is freed at once (1000).
    socket.once('close', () => {
      this.#closing = true;
      clearTimeout(this.#paceTimer);
      events.closed(1000);
    });
    events.message(
      Buffer.from(
        JSON.stringify({ type: 'join', room: this.#options.room, suite: 'des', version: SUITE_VERSIONS.des }),
      ),
      false,
    );
  }

  get open(): boolean {
    return !this.#closing && !this.#socket.destroyed && this.#socket.writable;
  }

  get bufferedBytes(): number {
    return this.#socket.writableLength + this.#outgoingBytes;
  }

  sendControl(message: ServerMessage): void {
    switch (message.type) {
      case 'joined':
      case 'resumed':
        this.#setPartner(message.partner && !message.partnerAway);
        break;
      case 'partner-joined':
      case 'partner-back':
        this.#setPartner(true);
        break;
      case 'partner-away':
      case 'partner-left':
        this.#setPartner(false);
        break;
      case 'error':
        // Without a seat the client can do nothing here; the original has no way to be told.
        if (!['no-partner', 'rate-limited'].includes(message.code)) {
          this.#options.observer.refused(message.code);
          this.close(1000, message.code);
        }
        break;
      case 'ack':
      case 'handshake':
      case 'partner-refused': // the original has no way to be told
        break;
      default: {
        const never: never = message;
        throw new Error(`unhandled control ${String(never)}`);
      }
    }
  }

  sendBinary(data: Buffer): void {
    if (!this.open) return;
    this.#outgoing.push(data);
    this.#outgoingBytes += data.length;
    if (this.#paceTimer === undefined) this.#writeNext();
  }

  close(_code: number, _reason: string): void {
    if (this.#closing) return;
    this.#closing = true;
    clearTimeout(this.#paceTimer);
    this.#socket.end();
    setTimeout(() => this.#socket.destroy(), this.#options.closeGraceMs).unref();
  }

  terminate(): void {
    this.#closing = true;
    this.#socket.destroy();
  }

  /** TCP has no ping: keep-alive probes find a dead peer, and a live one answers at once. */
  ping(): void {
    if (this.open) this.#events?.pong();
  }

  #onRead(chunk: Buffer): void {
    const events = this.#events;
    if (!events || this.#closing) return;
    if (chunk.length > this.#options.maxFrameBytes) {
      events.violation(); // as a WebSocket frame over the limit: the seat is freed, the connection closed
      this.close(1009, 'frame too large');
      return;
    }
    if (this.#partnerPresent) {
      events.message(chunk, true);
    } else if (this.#held.length < HELD_FRAMES_MAX) {
      this.#held.push(chunk);
    } else {
      this.#options.observer.dropped();
    }
  }

  #setPartner(present: boolean): void {
    this.#partnerPresent = present;
    if (!present) return;
    for (const frame of this.#held.splice(0)) this.#events?.message(frame, true);
  }

  #writeNext(): void {
    this.#paceTimer = undefined;
    const frame = this.#outgoing.shift();
    if (!frame || !this.open) return;
    this.#outgoingBytes -= frame.length;
    this.#socket.write(frame);
    this.#paceTimer = setTimeout(() => this.#writeNext(), PACE_MS);
  }
}
