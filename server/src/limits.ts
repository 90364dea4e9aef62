/**
 * Every limit of the relay in one place, with its default. Each one is also an environment
 * variable (`maxFrameBytes` ↔ `MAX_FRAME_BYTES`, see config.ts); docs/protocol.md lists them.
 */
export const DEFAULT_LIMITS = {
  /** Largest frame; a bigger one closes the connection with 1009. Modern frames top out near 20 KiB. */
  maxFrameBytes: 64 * 1024,
  /** Open connections for the whole relay; past it, upgrades get HTTP 503. */
  maxConnections: 20_000,
  /** Open connections from one IP address; past it, upgrades get HTTP 429. */
  maxConnectionsPerIp: 256,
  /** Rooms with at least one seat taken; past it, `join` into a new room gets `server-busy`. */
  maxRooms: 10_000,
  /**
   * Frames a connection may send: a token bucket of this size, refilled at `messagesPerSecond`.
   * Past it, frames are dropped and the client told `rate-limited`. The rate leaves room for a
   * file at the full byte rate (8 MiB/s in 60 KiB chunks is about 137 frames a second) plus
   * its acknowledgements and the chat.
   */
  messageBurst: 200,
  messagesPerSecond: 200,
  /**
   * Bytes of binary frames a connection may send: a token bucket of this size, refilled at
   * `bytesPerSecond` (8 MiB/s). Past it the relay stops reading that connection until it is
   * back within its rate (TCP holds the sender back); nothing is dropped.
   */
  byteBurst: 1024 * 1024,
  bytesPerSecond: 8 * 1024 * 1024,
  /** A partner whose unsent backlog grows past this is dropped (close 1013) instead of growing memory. */
  maxBufferedBytes: 1024 * 1024,
  /** Ping interval; a peer that has not answered the previous ping by the next one is dropped. */
  heartbeatMs: 30_000,
  /**
   * A seat whose connection dropped (not `leave`, not a close with 1000) is held this long for
   * `resume` before it is freed and the partner told `partner-left`.
   */
  seatGraceMs: 60_000,
  /** How long a closing connection may take to finish the close handshake before it is cut. */
  closeGraceMs: 2_000,
  /** Handshake attempts per room: a bucket of this many... */
  handshakeBurst: 5,
  /** ...with one attempt back every this many milliseconds. */
  handshakeRefillMs: 60_000,
  /** A room's attempt budget is kept this long after its last use, even once the room is empty. */
  handshakeMemoryMs: 60 * 60_000,
  /**
   * Room budgets remembered at most. When the table is full, the budget that will be full
   * soonest is forgotten (at no cost when it is full already); a fresh room is never refused.
   */
  handshakeBudgetRooms: 50_000,
  /**
   * A room's budget is charged to the client address whose `handshake` created it, until it
   * has refilled; past this many, that address gets `rate-limited` for new rooms.
   */
  handshakeBudgetsPerIp: 64,
  /** The same, per connection. */
  handshakeBudgetsPerConnection: 4,
  /** Room budgets created per second, relay-wide (all nodes with `REDIS_URL`). */
  handshakeNewRoomsPerSecond: 100,
  /**
   * With `REDIS_URL` only: a node that has not renewed its presence in Redis for this long is
   * taken for crashed, and its seats are held for `seatGraceMs` as if every connection dropped.
   */
  nodeTtlMs: 10_000,
} as const;

export type Limits = { -readonly [K in keyof typeof DEFAULT_LIMITS]: number };

/**
 * A connection is told each error code at most once in this long; the errors in between are
 * counted and told in one `error` with `count` when it ends (relay/error-notices.ts).
 */
export const ERROR_NOTICE_MS = 1_000;
