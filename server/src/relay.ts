/**
 * The relay: the only file that touches `ws`. Rooms of two; JSON control frames parsed against
 * the shared contract (@duet/core/protocol/control); binary payloads passed to the partner byte
 * for byte, never parsed, inspected, logged or stored. docs/protocol.md describes the protocol.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
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
import { HandshakeBudget } from './handshake-budget.ts';
import { silentObserver, type RelayObserver } from './observer.ts';
import { RATE_LIMIT_NOTICE_MS, type Limits } from './limits.ts';
import { Rooms, roleOf, type Room, type Seat } from './rooms.ts';
import { TokenBucket } from './token-bucket.ts';

/** Close codes (RFC 6455 §7.4.1) the relay sends itself; ws adds 1002, 1007 and 1009. */
export const CLOSE = {
  normal: 1000,
  goingAway: 1001,
  /** Never sent: what ws reports when a connection ended without a closing handshake. */
  abnormal: 1006,
  internalError: 1011,
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
}

interface Peer {
  readonly socket: WebSocket;
  readonly frames: TokenBucket;
  room?: Room<Peer>;
  seat?: Seat<Peer>;
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

const newToken = (): string => randomBytes(16).toString('hex');

/** Both are seat tokens (32 hex digits), so the buffers have the same length. */
const tokensEqual = (a: string, b: string): boolean =>
  timingSafeEqual(Buffer.from(a, 'hex'), Buffer.from(b, 'hex'));

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
  const rooms = new Rooms<Peer>(options.maxRooms);
  const budget = new HandshakeBudget({
    burst: options.handshakeBurst,
    refillMs: options.handshakeRefillMs,
    memoryMs: options.handshakeMemoryMs,
    maxRooms: options.handshakeBudgetRooms,
  });
  const peers = new Set<Peer>();
  /** Release timers of held seats. */
  const holds = new Map<Seat<Peer>, NodeJS.Timeout>();
  let closing = false;

  const heartbeat = setInterval(() => {
    for (const peer of peers) {
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

  /** The partner's connection, when the partner seat is taken and not held. */
  function connectedPartner(peer: Peer): Peer | undefined {
    return peer.room && peer.seat ? rooms.partnerOf(peer.room, peer.seat)?.peer : undefined;
  }

  function seated(room: Room<Peer>, seat: Seat<Peer>, partner: Seat<Peer> | undefined) {
    return {
      room: room.code,
      suite: room.suite,
      role: roleOf(seat.index),
      partner: partner !== undefined,
      partnerAway: partner !== undefined && partner.peer === undefined,
      token: seat.token,
    };
  }

  function stopHold(seat: Seat<Peer>): void {
    clearTimeout(holds.get(seat));
    holds.delete(seat);
  }

  function releaseSeat(room: Room<Peer>, seat: Seat<Peer>): void {
    observer.seat('left');
    stopHold(seat);
    send(rooms.release(room, seat)?.peer, { type: 'partner-left' });
  }

  /** `leave`, or a deliberate close: the seat is free at once. */
  function leaveRoom(peer: Peer): void {
    const { room, seat } = peer;
    if (!room || !seat) return;
    peer.room = peer.seat = undefined;
    releaseSeat(room, seat);
  }

  /** The connection is gone but may come back: the seat is held for `seatGraceMs`. */
  function holdSeat(peer: Peer): void {
    const { room, seat } = peer;
    if (!room || !seat) return;
    peer.room = peer.seat = undefined;
    if (closing) return releaseSeat(room, seat);
    observer.seat('held');
    send(rooms.hold(room, seat)?.peer, { type: 'partner-away' });
    const timer = setTimeout(() => {
      holds.delete(seat);
      if (seat.peer !== undefined) return;
      observer.seat('expired');
      releaseSeat(room, seat);
    }, options.seatGraceMs);
    timer.unref();
    holds.set(seat, timer);
  }

  /** Closes a connection, holding its seat now rather than when the close handshake ends. */
  function drop(peer: Peer, code: number, reason: string): void {
    holdSeat(peer);
    peer.socket.close(code, reason);
  }

  function onJoin(peer: Peer, room: string, suite: string): void {
    if (peer.room) return sendError(peer, 'already-joined');
    if (!isSuiteId(suite)) return sendError(peer, 'bad-suite'); // parseClientMessage checked it already
    const result = rooms.join(room, suite, peer, newToken());
    if (!result.ok) return sendError(peer, result.code);
    peer.room = result.room;
    peer.seat = result.seat;
    observer.seat('joined');
    send(peer, { type: 'joined', ...seated(result.room, result.seat, result.partner) });
    send(result.partner?.peer, { type: 'partner-joined' });
  }

  function onResume(peer: Peer, room: string, token: string): void {
    if (peer.room) return sendError(peer, 'already-joined');
    if (!roomCode.safeParse(room).success || !seatToken.safeParse(token).success)
      return sendError(peer, 'resume-failed');
    const result = rooms.resume(room, token, peer, newToken(), tokensEqual);
    if (!result.ok) {
      if (result.released) {
        stopHold(result.released.seat);
        send(result.released.partner?.peer, { type: 'partner-left' });
      }
      return sendError(peer, 'resume-failed');
    }
    stopHold(result.seat);
    if (result.replaced) {
      // A half-open connection still sat there: the token says this one is its successor.
      result.replaced.room = result.replaced.seat = undefined;
      result.replaced.socket.close(CLOSE.normal, 'seat resumed on another connection');
    }
    peer.room = result.room;
    peer.seat = result.seat;
    observer.seat('resumed');
    send(peer, { type: 'resumed', ...seated(result.room, result.seat, result.partner) });
    send(result.partner?.peer, { type: 'partner-back' });
  }

  function onHandshake(peer: Peer): void {
    if (!peer.room) return sendError(peer, 'not-joined');
    const partner = connectedPartner(peer);
    if (!partner) return sendError(peer, 'no-partner');
    const decision = budget.take(peer.room.code, now());
    observer.handshake(decision.granted);
    if (!decision.granted) return sendError(peer, 'rate-limited', { retryAfterMs: decision.retryAfterMs });
    // The same grant to both seats: the nonce is the relay's share of the CPace session id.
    const grant: ServerMessage = { type: 'handshake', attempt: decision.attempt, nonce: newToken() };
    send(peer, grant);
    send(partner, grant);
  }

  function onControl(peer: Peer, message: ClientMessage): void {
    switch (message.type) {
      case 'join':
        return onJoin(peer, message.room, message.suite);
      case 'leave':
        if (!peer.room) return sendError(peer, 'not-joined');
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
    if (!peer.room) return sendError(peer, 'not-joined');
    const partner = connectedPartner(peer);
    if (!partner) return sendError(peer, 'no-partner');
    // A partner that does not read must not make the relay buffer without bound.
    if (partner.socket.bufferedAmount + data.length > options.maxBufferedBytes) {
      return drop(partner, CLOSE.tryAgainLater, 'slow reader');
    }
    batchWrites(partner);
    partner.socket.send(data, { binary: true });
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
    onControl(peer, message);
  }

  function onConnection(socket: WebSocket): void {
    const peer: Peer = {
      socket,
      frames: new TokenBucket(options.messageBurst, 1000 / options.messagesPerSecond, now()),
      alive: true,
      lastRateLimitNotice: -Infinity,
      binaryFrames: 0,
      ackScheduled: false,
      corked: false,
    };
    peers.add(peer);
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
      if (typeof error.code === 'string' && error.code.startsWith('WS_ERR_')) leaveRoom(peer);
    });
    socket.on('close', (code) => {
      peers.delete(peer);
      try {
        // A client that says it is done (1000 normal, 1001 page gone, 1005 no code) frees the
        // seat as `leave` does. Anything else (1006: the network or a heartbeat timeout, or an
        // application code from a proxy) may come back: the seat is held.
        if (DELIBERATE_CLOSES.has(code)) leaveRoom(peer);
        else holdSeat(peer);
      } catch (error) {
        onInternalError(error);
      }
    });
  }

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
      return { connections: peers.size, rooms: rooms.size };
    },
    async close() {
      closing = true;
      clearInterval(heartbeat);
      for (const timer of holds.values()) clearTimeout(timer);
      holds.clear();
      for (const peer of peers) peer.socket.close(CLOSE.goingAway, 'server shutting down');
      // Resolves once every client is closed; ws cuts those that stall after closeGraceMs.
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    },
  };
}
