/**
 * The relay: the only file that touches `ws`. Rooms of two; JSON control frames parsed against
 * the shared contract (@duet/core/protocol/control); binary payloads passed to the partner byte
 * for byte, never parsed, inspected, logged or stored.
 */
import { randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocket, WebSocketServer, type RawData } from 'ws';
import { isDuetError } from '@duet/core/errors';
import {
  encodeControl,
  MAX_CONTROL_BYTES,
  parseClientMessage,
  type ClientMessage,
  type RelayErrorCode,
  type ServerMessage,
} from '@duet/core/protocol/control';
import { HandshakeBudget } from './handshake-budget.ts';
import type { Limits } from './limits.ts';
import { isOriginAllowed } from './origin.ts';
import { Rooms, roleOf, type Room, type SeatIndex } from './rooms.ts';
import { TokenBucket } from './token-bucket.ts';

/** Close codes (RFC 6455 §7.4.1) the relay uses. */
export const CLOSE = {
  normal: 1000,
  goingAway: 1001,
  tooLarge: 1009,
  tryAgainLater: 1013,
} as const;

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
  'no-partner': 'your partner is not in the room',
  'too-large': 'frame too large',
  'rate-limited': 'too many frames or attempts; slow down',
  'server-busy': 'the relay is at capacity; try again later',
};

export interface RelayOptions extends Limits {
  allowedOrigins: readonly string[];
  /** The clock, injectable for tests of the limits. */
  now?: () => number;
}

interface Peer {
  readonly socket: WebSocket;
  readonly frames: TokenBucket;
  room?: Room<Peer>;
  seat?: SeatIndex;
  alive: boolean;
  /** When this peer was last told `rate-limited`, so that a flood is not answered by a flood. */
  lastRateLimitNotice: number;
}

export interface RelayStats {
  connections: number;
  rooms: number;
}

export interface Relay {
  /** Hand an HTTP upgrade request to the relay (path and origin are checked here). */
  handleUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer): void;
  stats(): RelayStats;
  /** Closes every connection with 1001 and stops the heartbeat. */
  close(): Promise<void>;
}

export function createRelay(options: RelayOptions): Relay {
  const now = options.now ?? Date.now;
  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: options.maxFrameBytes,
    perMessageDeflate: false,
  });
  const rooms = new Rooms<Peer>(options.maxRooms);
  const budget = new HandshakeBudget({
    burst: options.handshakeBurst,
    refillMs: options.handshakeRefillMs,
    memoryMs: options.handshakeMemoryMs,
    maxRooms: options.maxRooms,
  });
  const peers = new Set<Peer>();

  const heartbeat = setInterval(() => {
    for (const peer of peers) {
      if (!peer.alive) {
        peer.socket.terminate();
        continue;
      }
      peer.alive = false;
      peer.socket.ping();
    }
  }, options.heartbeatMs);
  heartbeat.unref();

  function send(peer: Peer, message: ServerMessage): void {
    if (peer.socket.readyState === WebSocket.OPEN) peer.socket.send(encodeControl(message));
  }

  function sendError(peer: Peer, code: RelayErrorCode, extra: { retryAfterMs?: number } = {}): void {
    send(peer, { type: 'error', code, message: ERROR_TEXT[code], ...extra });
  }

  function partnerOf(peer: Peer): Peer | undefined {
    return peer.room && peer.seat !== undefined ? rooms.partnerOf(peer.room, peer.seat) : undefined;
  }

  function leaveRoom(peer: Peer): void {
    if (!peer.room || peer.seat === undefined) return;
    const partner = rooms.leave(peer.room, peer.seat);
    peer.room = undefined;
    peer.seat = undefined;
    if (partner) send(partner, { type: 'partner-left' });
  }

  function onControl(peer: Peer, message: ClientMessage): void {
    switch (message.type) {
      case 'join': {
        if (peer.room) return sendError(peer, 'already-joined');
        // parseClientMessage has checked the room code and the suite.
        const result = rooms.join(message.room, message.suite as 'modern' | 'des', peer);
        if (!result.ok) return sendError(peer, result.code);
        peer.room = result.room;
        peer.seat = result.seat;
        send(peer, {
          type: 'joined',
          room: result.room.code,
          suite: result.room.suite,
          role: roleOf(result.seat),
          partner: result.partner !== undefined,
        });
        if (result.partner) send(result.partner, { type: 'partner-joined' });
        return;
      }
      case 'leave':
        if (!peer.room) return sendError(peer, 'not-joined');
        return leaveRoom(peer);
      case 'handshake': {
        if (!peer.room) return sendError(peer, 'not-joined');
        const partner = partnerOf(peer);
        if (!partner) return sendError(peer, 'no-partner');
        const decision = budget.take(peer.room.code, now());
        if (!decision.granted)
          return sendError(peer, 'rate-limited', { retryAfterMs: decision.retryAfterMs });
        const grant: ServerMessage = {
          type: 'handshake',
          attempt: decision.attempt,
          nonce: randomBytes(16).toString('hex'),
        };
        send(peer, grant);
        send(partner, grant);
        return;
      }
      default: {
        const never: never = message;
        throw new Error(`unhandled control ${String(never)}`);
      }
    }
  }

  function onBinary(peer: Peer, data: Buffer): void {
    if (!peer.room) return sendError(peer, 'not-joined');
    const partner = partnerOf(peer);
    if (!partner) return sendError(peer, 'no-partner');
    // A partner that does not read must not make the relay buffer without bound.
    if (partner.socket.bufferedAmount + data.length > options.maxBufferedBytes) {
      partner.socket.close(CLOSE.tryAgainLater, 'slow reader');
      return;
    }
    partner.socket.send(data, { binary: true });
  }

  function onMessage(peer: Peer, data: RawData, isBinary: boolean): void {
    const at = now();
    if (!peer.frames.take(at)) {
      if (at - peer.lastRateLimitNotice >= 1000) {
        peer.lastRateLimitNotice = at;
        sendError(peer, 'rate-limited', { retryAfterMs: peer.frames.waitMs(at) });
      }
      return;
    }
    const bytes = Buffer.isBuffer(data)
      ? data
      : Array.isArray(data)
        ? Buffer.concat(data)
        : Buffer.from(data);
    if (isBinary) return onBinary(peer, bytes);
    if (bytes.length > MAX_CONTROL_BYTES) return sendError(peer, 'too-large');
    let message: ClientMessage;
    try {
      message = parseClientMessage(bytes.toString('utf8'));
    } catch (error) {
      const code = isDuetError(error) ? (error.code as RelayErrorCode) : 'bad-message';
      return sendError(peer, code);
    }
    onControl(peer, message);
  }

  function onConnection(socket: WebSocket): void {
    const peer: Peer = {
      socket,
      frames: new TokenBucket(options.messageBurst, 1000 / options.messagesPerSecond, now()),
      alive: true,
      lastRateLimitNotice: -Infinity,
    };
    peers.add(peer);
    socket.on('pong', () => (peer.alive = true));
    socket.on('message', (data, isBinary) => {
      try {
        onMessage(peer, data, isBinary);
      } catch {
        // A bug must cost one connection, never the relay.
        socket.close(1011, 'internal error');
      }
    });
    socket.on('error', () => socket.terminate()); // e.g. maxPayload: ws closes with 1009 first
    socket.on('close', () => {
      peers.delete(peer);
      leaveRoom(peer);
    });
  }

  function refuse(socket: Duplex, status: number, reason: string): void {
    socket.end(`HTTP/1.1 ${status} ${reason}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
  }

  return {
    handleUpgrade(request, socket, head) {
      socket.on('error', () => socket.destroy());
      const path = new URL(request.url ?? '/', 'http://relay').pathname;
      if (path !== '/ws') return refuse(socket, 404, 'Not Found');
      if (!isOriginAllowed(request, options.allowedOrigins)) return refuse(socket, 403, 'Forbidden');
      if (peers.size >= options.maxConnections) return refuse(socket, 503, 'Service Unavailable');
      wss.handleUpgrade(request, socket, head, onConnection);
    },
    stats() {
      return { connections: peers.size, rooms: rooms.size };
    },
    async close() {
      clearInterval(heartbeat);
      const closed = [...peers].map(
        (peer) =>
          new Promise<void>((resolve) => {
            if (peer.socket.readyState === WebSocket.CLOSED) return resolve();
            peer.socket.once('close', () => resolve());
            peer.socket.close(CLOSE.goingAway, 'server shutting down');
            // A peer that does not answer the close handshake is cut.
            setTimeout(() => peer.socket.terminate(), 2000).unref();
          }),
      );
      await Promise.all(closed);
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    },
  };
}
