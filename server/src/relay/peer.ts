/** A connection's state in the relay, and the registry of this node's connections. */
import type { Location, SeatRef } from '../directory.ts';
import type { Asker } from '../handshake-budget.ts';
import type { TokenBucket } from '../token-bucket.ts';
import type { ErrorNotices } from './error-notices.ts';
import type { Link } from './link.ts';
import { WorkQueue } from './work-queue.ts';

export interface Peer {
  readonly link: Link;
  /** Who this is for the per-client limits: its address, and an id unique across nodes for its whole life. */
  readonly client: Asker;
  /** Renewed for every seating: a frame meant for a seat it has left never reaches its next one. */
  at: Location;
  readonly frames: TokenBucket;
  /** Bytes of binary frames, for the byte rate limit. */
  readonly bytes: TokenBucket;
  /** Not read from until its byte debt is paid. */
  throttled: boolean;
  seat?: SeatRef | undefined;
  /** The partner's connection while it is connected, kept up to date by the partner notices. */
  partner?: Location | undefined;
  /** This connection's work, one message at a time, in the order received. */
  readonly work: WorkQueue;
  /** Answered the last ping. */
  alive: boolean;
  /** Its `error` replies, coalesced so that a flood is not answered by a flood. */
  readonly errors: ErrorNotices;
  /** Binary frames received on this connection, for `ack`. */
  binaryFrames: number;
  /** An `ack` is on its way: counting down, or due (relay.ts, `scheduleAck`). */
  ackScheduled: boolean;
  /** The `ack` is due: it goes with the next frame written here, or alone soon (Router). */
  ackDue: boolean;
}

/** This node's open connections, by connection id. */
export class Peers {
  readonly #byConn = new Map<string, Peer>();
  #next = 0;

  constructor(private readonly node: string) {}

  /** A new connection's state, registered under a fresh id. */
  add(link: Link, address: string, frames: TokenBucket, bytes: TokenBucket, errors: ErrorNotices): Peer {
    const at = this.#location();
    const peer: Peer = {
      link,
      client: { address, connection: `${at.node}/${at.conn}` },
      at,
      frames,
      bytes,
      throttled: false,
      work: new WorkQueue(),
      alive: true,
      errors,
      binaryFrames: 0,
      ackScheduled: false,
      ackDue: false,
    };
    this.#byConn.set(peer.at.conn, peer);
    return peer;
  }

  /** A new connection id before taking a seat: envelopes for an earlier seating find nobody. */
  renumber(peer: Peer): void {
    this.#byConn.delete(peer.at.conn);
    peer.at = this.#location();
    this.#byConn.set(peer.at.conn, peer);
  }

  get(conn: string): Peer | undefined {
    return this.#byConn.get(conn);
  }

  delete(peer: Peer): void {
    this.#byConn.delete(peer.at.conn);
  }

  values(): IterableIterator<Peer> {
    return this.#byConn.values();
  }

  get size(): number {
    return this.#byConn.size;
  }

  #location(): Location {
    return { node: this.node, conn: (++this.#next).toString(36) };
  }
}
