/**
 * Where frames and notices go: to a connection on this node, or over the bus to the node that
 * holds it (docs/scale-out.md). Payloads pass byte for byte; notices keep each connection's view
 * of its partner up to date; the directory's own events become notices here too.
 *
 * Every write to a connection on this node goes through here, payloads and control messages
 * alike (replies, notices, acks, errors), and counts against `maxBufferedBytes`: a connection
 * whose unsent bytes would pass it is closed with 1013 instead, whatever made them.
 */
import { encodeControl, type ServerMessage } from '@duet/core/protocol/control';
import type { DirectoryEvents, Location } from '../directory.ts';
import type { Bus, Envelope } from '../envelope.ts';
import type { RelayObserver } from '../observer.ts';
import { CLOSE } from './close-codes.ts';
import type { Peer, Peers } from './peer.ts';
import type { WriteBatch } from './write-batch.ts';

export interface RouterOptions {
  bus: Bus;
  peers: Peers;
  batch: WriteBatch;
  observer: RelayObserver;
  /** A connection whose unsent backlog would grow past this is a slow reader. */
  maxBufferedBytes: number;
  /** Closes a slow reader (its seat held), so that the relay does not buffer without bound. */
  dropSlowReader(peer: Peer): void;
}

export class Router {
  constructor(private readonly options: RouterOptions) {}

  /** A control message to a connection on this node, unless it is closing or reads too slowly. */
  tell(peer: Peer | undefined, message: ServerMessage): void {
    if (!peer?.link.open) return;
    // Control messages are ASCII JSON: one byte a character.
    if (this.#fits(peer, peer.link.bufferedBytes + encodeControl(message).length))
      peer.link.sendControl(message);
  }

  /**
   * A payload from a seated connection to its partner's; `alone`: no other frame comes from the
   * sender in this callback (`LinkEvents.message`).
   */
  forward(to: Location, data: Buffer, alone = false): void {
    // A partner on this node gets it straight, without an envelope (the hot path).
    if (to.node === this.options.bus.node) this.#writeTo(to.conn, data, alone);
    else this.options.bus.publish(to.node, { kind: 'binary', conn: to.conn, data });
    this.options.observer.relayed(data.length);
  }

  /** A notice to a connection (nobody when `to` is undefined); `from`: where the sender sits now. */
  notify(to: Location | undefined, message: ServerMessage, from?: Location): void {
    if (to) this.deliver(to, { kind: 'control', conn: to.conn, message, from });
  }

  /** Hands an envelope to the connection it names, here or on its node. */
  deliver(to: Location, envelope: Envelope): void {
    if (to.node === this.options.bus.node) this.receive(envelope);
    else this.options.bus.publish(to.node, envelope);
  }

  /** An envelope for a connection on this node (from this node or another). */
  receive(envelope: Envelope): void {
    if (envelope.kind === 'binary') return this.#writeTo(envelope.conn, envelope.data);
    const peer = this.#seated(envelope.conn);
    if (!peer) return;
    switch (envelope.kind) {
      case 'control':
        return this.#onNotice(peer, envelope.message, envelope.from);
      case 'replaced':
        // A half-open connection still sat there: the token says another one is its successor.
        peer.seat = peer.partner = undefined;
        peer.link.close(CLOSE.normal, 'seat resumed on another connection');
        return;
      default: {
        const unhandled: never = envelope;
        throw new Error(`unhandled envelope ${String(unhandled)}`);
      }
    }
  }

  /** The connection `conn` on this node, if it still sits in a seat (gone meanwhile: the seat's own close tells the sender). */
  #seated(conn: string): Peer | undefined {
    const peer = this.options.peers.get(conn);
    return peer?.seat ? peer : undefined;
  }

  #writeTo(conn: string, data: Buffer, alone = false): void {
    const peer = this.#seated(conn);
    if (peer) this.#write(peer, data, alone);
  }

  #onNotice(peer: Peer, message: ServerMessage, from: Location | undefined): void {
    switch (message.type) {
      case 'partner-joined':
      case 'partner-back':
        peer.partner = from;
        break;
      case 'partner-left':
      case 'partner-away':
        peer.partner = undefined;
        break;
      default:
        break;
    }
    this.tell(peer, message);
  }

  /** The `ack` that came due for `peer` (relay.ts, `scheduleAck`), unless it went already. */
  sendDueAck(peer: Peer): void {
    if (!peer.ackDue) return;
    peer.ackDue = peer.ackScheduled = false;
    this.tell(peer, { type: 'ack', frames: peer.binaryFrames });
  }

  #write(peer: Peer, data: Buffer, alone: boolean): void {
    const waiting = peer.link.bufferedBytes; // read once: the limit and the batch both need it
    if (!this.#fits(peer, waiting + data.length)) return;
    // A frame that came alone is written at once: at rest, batching would only add a microtask
    // and a cork per frame. Batched when more are coming; when an ack is due, so that the ack
    // still leaves in the frame's write; and when the socket has writes waiting already (under
    // load: writing at once there measured fewer msgs/s, docs/benchmarks.md).
    if (!alone || peer.ackDue || waiting > 0) this.options.batch.add(peer.link);
    peer.link.sendBinary(data);
    this.sendDueAck(peer); // in the same write, after the frame: the frame is read first
  }

  /** A connection that does not read must not make the relay buffer without bound: `unsent` bytes after this write. */
  #fits(peer: Peer, unsent: number): boolean {
    if (unsent <= this.options.maxBufferedBytes) return true;
    this.options.dropSlowReader(peer);
    return false;
  }
}

/** The directory's events (directory.ts) as notices and closes for this node's connections. */
export function directoryEvents(router: Router, peers: Peers, observer: RelayObserver): DirectoryEvents {
  return {
    seatExpired(partner) {
      observer.seat('expired');
      observer.seat('left');
      router.notify(partner, { type: 'partner-left' });
    },
    evicted() {
      for (const peer of peers.values()) {
        if (!peer.seat) continue;
        // The seat is held already; the client takes it back with `resume`, here or elsewhere.
        peer.seat = peer.partner = undefined;
        peer.link.close(CLOSE.serviceRestart, 'relay node lost its seats; resume');
      }
    },
    seatOrphaned(partner) {
      observer.seat('held');
      router.notify(partner, { type: 'partner-away' });
    },
  };
}
