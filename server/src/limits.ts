/** Every limit of the relay in one place, with its default. docs/protocol.md lists them too. */
export const DEFAULT_LIMITS = {
  /** Largest binary frame; a bigger one closes the connection with 1009. Modern frames top out near 20 KiB. */
  maxFrameBytes: 64 * 1024,
  /** Open connections for the whole relay. */
  maxConnections: 20_000,
  /** Rooms with at least one seat taken. */
  maxRooms: 10_000,
  /** Frames a connection may send: a token bucket of this size... */
  messageBurst: 100,
  /** ...refilled at this many frames a second. */
  messagesPerSecond: 50,
  /** A partner whose unsent backlog grows past this is dropped (close 1013) instead of growing memory. */
  maxBufferedBytes: 1024 * 1024,
  /** Ping interval; a peer that has not answered the previous ping by the next one is dropped. */
  heartbeatMs: 30_000,
  /** Handshake attempts per room: a bucket of this many... */
  handshakeBurst: 5,
  /** ...with one attempt back every this many milliseconds. */
  handshakeRefillMs: 60_000,
  /** A room's attempt budget is kept this long after its last use, even once the room is empty. */
  handshakeMemoryMs: 60 * 60_000,
} as const;

export type Limits = { -readonly [K in keyof typeof DEFAULT_LIMITS]: number };
