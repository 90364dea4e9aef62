/**
 * A connection as the relay needs it, whatever carries it: something to write control messages
 * and payloads to, to close, and to ask for a sign of life. ws-link.ts adapts a WebSocket; any
 * other transport (a raw TCP gateway, say) adapts its socket the same way and then takes seats,
 * limits and routing exactly as a WebSocket peer does (`Relay.attach`).
 */
import type { ServerMessage } from '@duet/core/protocol/control';

export interface Link {
  /** Still accepting writes: not closing, not closed. */
  readonly open: boolean;
  /** Bytes written but not yet handed to the network. */
  readonly bufferedBytes: number;
  /** A notice, reply or error; a transport without control frames may render or drop it. */
  sendControl(message: ServerMessage): void;
  /** A partner's payload, byte for byte. */
  sendBinary(data: Buffer): void;
  /** Ends the connection politely; `code` is a WebSocket close code (close-codes.ts). */
  close(code: number, reason: string): void;
  /** Cuts the connection at once (a peer that stopped answering pings). */
  terminate(): void;
  /** Asks for a sign of life; the transport reports it with `LinkEvents.pong`. */
  ping(): void;
  /**
   * Holds writes until `uncork`, so that a turn's frames leave in one write (write-batch.ts).
   * Absent when the transport cannot; writes then go out one by one.
   */
  cork?(): void;
  uncork?(): void;
  /**
   * Stops reading from the connection (and resumes): how the byte rate limit holds a fast
   * sender back. Absent when the transport cannot; its connection is then not shaped.
   */
  pause?(): void;
  resume?(): void;
}

/** What a transport tells the relay about its connection (returned by `Relay.attach`). */
export interface LinkEvents {
  /**
   * A frame read: a payload (`isBinary`) or a control message as UTF-8 JSON. `alone`: the
   * transport holds nothing more of this connection's that it has read, so no other frame comes
   * in this callback, and a payload it carries is written at once instead of batched
   * (write-batch.ts). Absent when the transport cannot tell: the relay batches.
   */
  message(data: Buffer, isBinary: boolean, alone?: boolean): void;
  /** The peer answered a ping. */
  pong(): void;
  /** The peer broke the transport's protocol: its seat is freed, not held. */
  violation(): void;
  /** The connection is closed; `code` as in close-codes.ts (1006 when it just dropped). */
  closed(code: number): void;
}
