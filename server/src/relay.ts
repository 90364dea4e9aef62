/**
 * The relay: the only file that touches `ws`. Rooms of two; JSON control frames parsed against
 * the shared contract (@duet/core/protocol/control); binary payloads passed to the partner byte
 * for byte, never parsed, inspected, logged or stored. docs/protocol.md describes the protocol.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocket, WebSocketServer, type RawData, type ServerOptions } from 'ws';
import { isDuetError } from '@duet/core/errors';
import {
  encodeControl,
  MAX_CONTROL_BYTES,
  parseClientMessage,
  RELAY_ERROR_CODES,
  roomCode,
  seatToken,
  SUITE_IDS,
  type ClientMessage,
  type RelayErrorCode,
  type ServerMessage,
  type SuiteId,
} from '@duet/core/protocol/control';
import { ConnectionGate } from './connection-gate.ts';
import type { DirectoryEvents, Location, RoomDirectory, SeatRef } from './directory.ts';
import { localBus, type Bus, type Envelope } from './envelope.ts';
import { MemoryRoomDirectory } from './memory-directory.ts';
import { silentObserver, type RelayObserver } from './observer.ts';
import { RATE_LIMIT_NOTICE_MS, type Limits } from './limits.ts';
import { roleOf } from './rooms.ts';
import { newToken } from './seat-token.ts';
import { TokenBucket } from './token-bucket.ts';

/** Close codes (RFC 6455 §7.4.1) the relay sends itself; ws adds 1002, 1007 and 1009. */
export const CLOSE = {
  normal: 1000,
  goingAway: 1001,
  /** Never sent: what ws reports when a connection ended without a closing handshake. */
  abnormal: 1006,
  internalError: 1011,
  /** With REDIS_URL: this node was taken for crashed and its seats held; clients should resume. */
  serviceRestart: 1012,
  tryAgainLater: 1013,
} as const;

/** Close codes with which a client says it is done; its seat is freed at once. */
const DELIBERATE_CLOSES = new Set<number>([1000, 1001, 1005]);

/** Short, fixed sentences: an error never echoes what the client sent. */
const ERROR_TEXT: Record<RelayErrorCode, string> = {
  'bad-json': 'control frame is not valid JSON',
  'bad-message': 'control frame does not match the protocol',
  'unknown-type': 'control frame has an unknown type',
  'bad-room': 'room code must be 3-64 lowercase letters, digits and single hyphens',
  'bad-suite': 'suite must be "modern" or "des"',
  'not-joined': 'join a room first',
  'already-joined': 'this connection is already in a room; leave it first',
  'room-full': 'this room already has two people',
  'suite-mismatch': 'this room uses the other suite',
  'no-partner': 'your partner is not connected',
  'too-large': 'control frame too large',
  'rate-limited': 'too many frames or attempts; slow down',
  'server-busy': 'the relay is at capacity; try again later',
  'resume-failed': 'that seat cannot be taken back; join the room again',
};

export interface RelayOptions extends Limits {
  allowedOrigins: readonly string[];
  /** The clock, injectable for tests of the limits. */
  now?: () => number;
  /** Told counts, codes and lifecycle events, for metrics and logs (observer.ts). */
  observer?: RelayObserver;
  /** Where rooms live; default: this process only (memory-directory.ts). */
  directory?: (events: DirectoryEvents) => RoomDirectory;
  /** How envelopes reach other nodes; default: there are none. */
  bus?: Bus;
}

interface Peer {
  readonly socket: WebSocket;
  /** Renewed for every seating: a frame meant for a seat it has left never reaches its next one. */
  at: Location;
  readonly frames: TokenBucket;
  seat?: SeatRef | undefined;
  /** The partner's connection while it is connected, kept up to date by the partner notices. */
  partner?: Location | undefined;
  /** This connection's work, one message at a time, in the order received... */
  work: Promise<void>;
  /** ...and how many of its tasks are still waiting or running (0: the next can run at once). */
  pending: number;
  /** Answered the last ping. */
  alive: boolean;
  /** When this peer was last told `rate-limited`, so that a flood is not answered by a flood. */
  lastRateLimitNotice: number;
  /** Binary frames received on this connection, for `ack`. */
  binaryFrames: number;
  ackScheduled: boolean;
  /** Frames to this peer are being gathered into one write for this turn (see `batchWrites`). */
  corked: boolean;
}

/** Acks are coalesced over this long: one `ack` for every frame read in that time. */
export const ACK_DELAY_MS = 10;

/**
 * The TCP socket under a `ws` connection. `ws` keeps it private (`_socket`); the relay only
 * corks and uncorks it to batch writes, and falls back to plain writes when it is missing.
 * ws is pinned by the lock file, and the relay tests run through this path.
 */
function rawSocket(socket: WebSocket): { cork(): void; uncork(): void } | undefined {
  const raw = (socket as unknown as { _socket?: { cork?: unknown; uncork?: unknown } })._socket;
  return raw && typeof raw.cork === 'function' && typeof raw.uncork === 'function'
    ? (raw as { cork(): void; uncork(): void })
    : undefined;
}

export interface RelayStats {
  connections: number;
  rooms: number;
}

export interface Relay {
  /** Hands an HTTP upgrade request to the relay; path, Origin and connection limits are checked here. */
  handleUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer): void;
  stats(): RelayStats;
  /** Refuses new upgrades, closes every connection with 1001 and resolves once all are closed. */
  close(): Promise<void>;
}

function isSuiteId(value: string): value is SuiteId {
  return (SUITE_IDS as readonly string[]).includes(value);
}

function isRelayErrorCode(value: string): value is RelayErrorCode {
  return (RELAY_ERROR_CODES as readonly string[]).includes(value);
}

function toBuffer(data: RawData): Buffer {
  if (Buffer.isBuffer(data)) return data;
  return Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data);
}

export function createRelay(options: RelayOptions): Relay {
  const now = options.now ?? Date.now;
  const observer = options.observer ?? silentObserver;
  // The error's name only: a message or stack could one day carry something a client sent.
  const onInternalError = (error: unknown) =>
    observer.internalError(error instanceof Error ? error.name : typeof error);
  // `closeTimeout` (ws 8.19+) is not in @types/ws 8.18 yet, hence the widened type.
  const serverOptions: ServerOptions & { closeTimeout: number } = {
    noServer: true,
    maxPayload: options.maxFrameBytes, // ws closes with 1009 above it, before anything is buffered
    perMessageDeflate: false, // no compression: no zip bombs, no compression side channels
    closeTimeout: options.closeGraceMs, // a peer that stalls its close handshake is cut after this
  };
  const wss = new WebSocketServer(serverOptions);
  const gate = new ConnectionGate(options);
  const bus = options.bus ?? localBus('local');
  const events: DirectoryEvents = {
    seatExpired(partner) {
      observer.seat('expired');
      observer.seat('left');
      notify(partner, { type: 'partner-left' });
    },
    evicted() {
      for (const peer of peers.values()) {
        if (!peer.seat) continue;
        // The seat is held already; the client takes it back with `resume`, here or elsewhere.
        peer.seat = peer.partner = undefined;
        peer.socket.close(CLOSE.serviceRestart, 'relay node lost its seats; resume');
      }
    },
    seatOrphaned(partner) {
      observer.seat('held');
      notify(partner, { type: 'partner-away' });
    },
  };
  const directory = options.directory?.(events) ?? new MemoryRoomDirectory(options, events);
  /** Open connections on this node, by connection id. */
  const peers = new Map<string, Peer>();
  let nextConn = 0;
  let closing = false;

  const heartbeat = setInterval(() => {
    for (const peer of peers.values()) {
      try {
        if (!peer.alive) {
          peer.socket.terminate(); // 'close' follows: the seat is held and the partner told
          continue;
        }
        peer.alive = false;
        peer.socket.ping();
      } catch (error) {
        onInternalError(error);
      }
    }
  }, options.heartbeatMs);
  heartbeat.unref();

  function send(peer: Peer | undefined, message: ServerMessage): void {
    if (peer?.socket.readyState === WebSocket.OPEN) peer.socket.send(encodeControl(message));
  }

  function sendError(peer: Peer, code: RelayErrorCode, extra: { retryAfterMs?: number } = {}): void {
    observer.error(code);
    send(peer, { type: 'error', code, message: ERROR_TEXT[code], ...extra });
  }

  /** Hands an envelope to the connection it names, here or on its node. */
  function deliver(to: Location, envelope: Envelope): void {
    if (to.node === bus.node) receive(envelope);
    else bus.publish(to.node, envelope);
  }

  function notify(to: Location | undefined, message: ServerMessage, from?: Location): void {
    if (to) deliver(to, { kind: 'control', conn: to.conn, message, from });
  }

  /** An envelope for a connection on this node (from this node or another). */
  function receive(envelope: Envelope): void {
    const peer = peers.get(envelope.conn);
    // Gone meanwhile (its seat's own close tells the sender), or out of that seat.
    if (!peer?.seat) return;
    switch (envelope.kind) {
      case 'binary':
        return deliverBinary(peer, envelope.data);
      case 'control':
        return onNotice(peer, envelope.message, envelope.from);
      case 'replaced':
        // A half-open connection still sat there: the token says another one is its successor.
        peer.seat = peer.partner = undefined;
        peer.socket.close(CLOSE.normal, 'seat resumed on another connection');
        return;
      default: {
        const unhandled: never = envelope;
        throw new Error(`unhandled envelope ${String(unhandled)}`);
      }
    }
  }

  function onNotice(peer: Peer, message: ServerMessage, from: Location | undefined): void {
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
    send(peer, message);
  }

  function deliverBinary(peer: Peer, data: Buffer): void {
    // A partner that does not read must not make the relay buffer without bound.
    if (peer.socket.bufferedAmount + data.length > options.maxBufferedBytes) {
      return drop(peer, CLOSE.tryAgainLater, 'slow reader');
    }
    batchWrites(peer);
    peer.socket.send(data, { binary: true });
  }

  const seated = (seat: SeatRef, token: string, partner: { at: Location | undefined } | undefined) => ({
    room: seat.room,
    suite: seat.suite,
    role: roleOf(seat.index),
    partner: partner !== undefined,
    partnerAway: partner !== undefined && partner.at === undefined,
    token,
  });

  /** `leave`, or a deliberate close: the seat is free at once. */
  async function leaveRoom(peer: Peer): Promise<void> {
    const seat = peer.seat;
    if (!seat) return;
    peer.seat = peer.partner = undefined;
    observer.seat('left');
    notify(await directory.release(seat, peer.at), { type: 'partner-left' });
  }

  /** The connection is gone but may come back: the seat is held for `seatGraceMs`. */
  async function holdSeat(peer: Peer): Promise<void> {
    if (!peer.seat) return;
    if (closing) return leaveRoom(peer);
    const seat = peer.seat;
    peer.seat = peer.partner = undefined;
    observer.seat('held');
    notify(await directory.hold(seat, peer.at), { type: 'partner-away' });
  }

  /**
   * Runs `task` after this connection's earlier work; a failure costs this connection only.
   * With nothing pending the task runs at once: a binary frame to a local partner is then
   * forwarded in the same turn, without a promise per frame (the relay's hot path).
   */
  function enqueue(peer: Peer, task: () => Promise<void> | void): void {
    const fail = (error: unknown) => {
      onInternalError(error);
      drop(peer, CLOSE.internalError, 'internal error');
    };
    const settle = () => {
      peer.pending -= 1;
    };
    peer.pending += 1;
    if (peer.pending === 1) {
      let result: Promise<void> | void;
      try {
        result = task();
      } catch (error) {
        settle();
        return fail(error);
      }
      if (!(result instanceof Promise)) return settle();
      peer.work = result.catch(fail).finally(settle);
      return;
    }
    peer.work = peer.work.then(task).catch(fail).finally(settle);
  }

  /** Closes a connection, holding its seat now rather than when the close handshake ends. */
  function drop(peer: Peer, code: number, reason: string): void {
    const seat = peer.seat;
    if (seat && !closing) {
      peer.seat = peer.partner = undefined;
      observer.seat('held');
      void directory
        .hold(seat, peer.at)
        .then((partner) => notify(partner, { type: 'partner-away' }), onInternalError);
    }
    peer.socket.close(code, reason);
  }

  /** A new connection id before taking a seat: envelopes for an earlier seating find nobody. */
  function renumber(peer: Peer): void {
    peers.delete(peer.at.conn);
    peer.at = { node: bus.node, conn: (++nextConn).toString(36) };
    peers.set(peer.at.conn, peer);
  }

  async function onJoin(peer: Peer, room: string, suite: string): Promise<void> {
    if (peer.seat) return sendError(peer, 'already-joined');
    if (!isSuiteId(suite)) return sendError(peer, 'bad-suite'); // parseClientMessage checked it already
    renumber(peer);
    const result = await directory.join(room, suite, peer.at);
    if (!result.ok) return sendError(peer, result.code);
    if (peer.socket.readyState !== WebSocket.OPEN) {
      await directory.release(result.seat, peer.at); // closed while the seat was being taken
      notify(result.partner?.at, { type: 'partner-left' });
      return;
    }
    peer.seat = result.seat;
    peer.partner = result.partner?.at;
    observer.seat('joined');
    send(peer, { type: 'joined', ...seated(result.seat, result.token, result.partner) });
    notify(result.partner?.at, { type: 'partner-joined' }, peer.at);
  }

  async function onResume(peer: Peer, room: string, token: string): Promise<void> {
    if (peer.seat) return sendError(peer, 'already-joined');
    if (!roomCode.safeParse(room).success || !seatToken.safeParse(token).success)
      return sendError(peer, 'resume-failed');
    renumber(peer);
    const result = await directory.resume(room, token, peer.at);
    if (!result.ok) {
      notify(result.releasedPartner, { type: 'partner-left' });
      return sendError(peer, 'resume-failed');
    }
    if (result.replaced) deliver(result.replaced, { kind: 'replaced', conn: result.replaced.conn });
    peer.seat = result.seat;
    peer.partner = result.partner?.at;
    observer.seat('resumed');
    send(peer, { type: 'resumed', ...seated(result.seat, result.token, result.partner) });
    notify(result.partner?.at, { type: 'partner-back' }, peer.at);
  }

  async function onHandshake(peer: Peer): Promise<void> {
    if (!peer.seat) return sendError(peer, 'not-joined');
    if (!peer.partner) return sendError(peer, 'no-partner');
    const decision = await directory.takeAttempt(peer.seat.room, now());
    observer.handshake(decision.granted);
    if (!decision.granted) return sendError(peer, 'rate-limited', { retryAfterMs: decision.retryAfterMs });
    // The same grant to both seats: the nonce is the relay's share of the CPace session id.
    const grant: ServerMessage = { type: 'handshake', attempt: decision.attempt, nonce: newToken() };
    send(peer, grant);
    notify(peer.partner, grant);
  }

  function onControl(peer: Peer, message: ClientMessage): Promise<void> | void {
    switch (message.type) {
      case 'join':
        return onJoin(peer, message.room, message.suite);
      case 'leave':
        if (!peer.seat) return sendError(peer, 'not-joined');
        return leaveRoom(peer);
      case 'handshake':
        return onHandshake(peer);
      case 'resume':
        return onResume(peer, message.room, message.token);
      default: {
        const unhandled: never = message;
        throw new Error(`unhandled control message ${String(unhandled)}`);
      }
    }
  }

  /** Acknowledges binary frames read: one `ack`, with the running count, for all those read in one turn. */
  function scheduleAck(peer: Peer): void {
    if (peer.ackScheduled) return;
    peer.ackScheduled = true;
    setTimeout(() => {
      peer.ackScheduled = false;
      send(peer, { type: 'ack', frames: peer.binaryFrames });
    }, ACK_DELAY_MS);
  }

  // Profiling showed ~70 % of the relay's time in one write system call per frame. Frames
  // forwarded to a peer within one turn of the event loop now go out in one write.
  let corked: Peer[] = [];
  function batchWrites(peer: Peer): void {
    if (peer.corked) return;
    const raw = rawSocket(peer.socket);
    if (!raw) return;
    raw.cork();
    peer.corked = true;
    if (corked.push(peer) === 1) setImmediate(flushWrites);
  }
  function flushWrites(): void {
    const peers = corked;
    corked = [];
    for (const peer of peers) {
      peer.corked = false;
      rawSocket(peer.socket)?.uncork();
    }
  }

  function onBinary(peer: Peer, data: Buffer): void {
    if (!peer.seat) return sendError(peer, 'not-joined');
    if (!peer.partner) return sendError(peer, 'no-partner');
    deliver(peer.partner, { kind: 'binary', conn: peer.partner.conn, data });
    observer.relayed(data.length);
  }

  function onMessage(peer: Peer, data: RawData, isBinary: boolean): void {
    if (peer.socket.readyState !== WebSocket.OPEN) return; // closing: nothing more is acted on
    if (isBinary) {
      peer.binaryFrames += 1; // acks number every frame read, in order, whatever becomes of it
      scheduleAck(peer);
    }
    const at = now();
    if (!peer.frames.take(at)) {
      if (at - peer.lastRateLimitNotice >= RATE_LIMIT_NOTICE_MS) {
        peer.lastRateLimitNotice = at;
        sendError(peer, 'rate-limited', { retryAfterMs: peer.frames.waitMs(at) });
      }
      return;
    }
    const bytes = toBuffer(data);
    // Everything after the rate limit waits its turn, so answers keep the order of the frames.
    enqueue(peer, () => {
      if (peer.socket.readyState !== WebSocket.OPEN) return;
      if (isBinary) return onBinary(peer, bytes);
      // Counted in bytes here; parseClientMessage counts UTF-16 units, which is never more.
      if (bytes.length > MAX_CONTROL_BYTES) return sendError(peer, 'too-large');
      let message: ClientMessage;
      try {
        message = parseClientMessage(bytes.toString('utf8'));
      } catch (error) {
        if (isDuetError(error) && isRelayErrorCode(error.code)) return sendError(peer, error.code);
        throw error;
      }
      return onControl(peer, message);
    });
  }

  function onConnection(socket: WebSocket): void {
    const peer: Peer = {
      socket,
      at: { node: bus.node, conn: (++nextConn).toString(36) },
      frames: new TokenBucket(options.messageBurst, 1000 / options.messagesPerSecond, now()),
      work: Promise.resolve(),
      pending: 0,
      alive: true,
      lastRateLimitNotice: -Infinity,
      binaryFrames: 0,
      ackScheduled: false,
      corked: false,
    };
    peers.set(peer.at.conn, peer);
    socket.on('pong', () => (peer.alive = true));
    socket.on('message', (data, isBinary) => {
      try {
        onMessage(peer, data, isBinary);
      } catch (error) {
        // A bug must cost one connection, never the relay.
        onInternalError(error);
        drop(peer, CLOSE.internalError, 'internal error');
      }
    });
    // ws emits 'error' for a protocol violation (codes WS_ERR_*, closing with 1002, 1007 or 1009)
    // and for a failed write. A violation is no network drop: the seat is freed, not held.
    socket.on('error', (error: Error & { code?: unknown }) => {
      if (typeof error.code === 'string' && error.code.startsWith('WS_ERR_'))
        enqueue(peer, () => leaveRoom(peer));
    });
    socket.on('close', (code) => {
      peers.delete(peer.at.conn);
      // A client that says it is done (1000 normal, 1001 page gone, 1005 no code) frees the
      // seat as `leave` does. Anything else (1006: the network or a heartbeat timeout, or an
      // application code from a proxy) may come back: the seat is held.
      peer.work = peer.work
        .then(() => (DELIBERATE_CLOSES.has(code) ? leaveRoom(peer) : holdSeat(peer)))
        .catch(onInternalError);
    });
  }

  bus.onEnvelope((envelope) => {
    try {
      receive(envelope);
    } catch (error) {
      onInternalError(error);
    }
  });

  return {
    handleUpgrade(request, socket, head) {
      socket.on('error', () => socket.destroy());
      try {
        const refusal = closing
          ? { status: 503, reason: 'Service Unavailable' }
          : gate.check(request, socket);
        if (refusal) {
          observer.refused(refusal.status);
          socket.end(
            `HTTP/1.1 ${refusal.status} ${refusal.reason}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`,
          );
          return;
        }
        wss.handleUpgrade(request, socket, head, onConnection);
      } catch (error) {
        onInternalError(error);
        socket.destroy();
      }
    },
    stats() {
      return { connections: peers.size, rooms: directory.size };
    },
    async close() {
      closing = true;
      clearInterval(heartbeat);
      const all = [...peers.values()];
      for (const peer of all) peer.socket.close(CLOSE.goingAway, 'server shutting down');
      // Resolves once every client is closed; ws cuts those that stall after closeGraceMs.
      await new Promise<void>((resolve) => wss.close(() => resolve()));
      await Promise.all(all.map((peer) => peer.work)); // seats released in the directory
      await directory.close();
      await bus.close();
    },
  };
}
