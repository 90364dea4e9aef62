/**
 * The relay: each connection from upgrade to close. Rooms of two; JSON control frames parsed
 * against the shared contract (@duet/core/protocol/control); binary payloads passed to the
 * partner byte for byte, never parsed, inspected, logged or stored. docs/protocol.md describes
 * the protocol.
 *
 * This file is the connection lifecycle: admission, each connection's messages in order, seats
 * taken, held and freed, shutdown. Its parts live in relay/: routing.ts (where frames and notices
 * go), write-batch.ts, link.ts (a connection whatever carries it; ws-link.ts for WebSocket),
 * peer.ts (a connection's state), work-queue.ts and replies.ts.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type ServerOptions } from 'ws';
import { isDuetError } from '@duet/core/errors';
import {
  MAX_CONTROL_BYTES,
  parseClientMessage,
  roomCode,
  seatToken,
  SUITE_IDS,
  type ClientMessage,
  type RelayErrorCode,
  type ServerMessage,
  type SuiteId,
} from '@duet/core/protocol/control';
import { ConnectionGate, type Admission, type Refusal } from './connection-gate.ts';
import type { DirectoryEvents, Location, RoomDirectory, SeatRef } from './directory.ts';
import { localBus, type Bus } from './envelope.ts';
import type { HostRule } from './host-check.ts';
import { MemoryRoomDirectory } from './memory-directory.ts';
import { silentObserver, type RelayObserver } from './observer.ts';
import { ERROR_NOTICE_MS, type Limits } from './limits.ts';
import { CLOSE, DELIBERATE_CLOSES } from './relay/close-codes.ts';
import type { Link, LinkEvents } from './relay/link.ts';
import { ErrorNotices, type ErrorDetails } from './relay/error-notices.ts';
import { Peers, type Peer } from './relay/peer.ts';
import { errorReply, isRelayErrorCode } from './relay/replies.ts';
import { directoryEvents, Router } from './relay/routing.ts';
import { WriteBatch } from './relay/write-batch.ts';
import { attachWebSocket } from './relay/ws-link.ts';
import { roleOf } from './rooms.ts';
import { newToken } from './seat-token.ts';
import { TokenBucket } from './token-bucket.ts';

type JoinMessage = Extract<ClientMessage, { type: 'join' }>;

export { CLOSE } from './relay/close-codes.ts';
export type { Link, LinkEvents } from './relay/link.ts';

export interface RelayOptions extends Limits {
  allowedOrigins: readonly string[];
  /** Proxies whose `X-Forwarded-For` names the client (client-address.ts); default none. */
  trustProxy?: readonly string[];
  /** The names an upgrade's `Host` must carry (host-check.ts); default: no check. */
  hostRules?: readonly HostRule[] | undefined;
  /** The clock, injectable for tests of the limits. */
  now?: () => number;
  /** How long identical errors to one connection are coalesced (default ERROR_NOTICE_MS; 0: never). */
  errorNoticeMs?: number;
  /** Told counts, codes and lifecycle events, for metrics and logs (observer.ts). */
  observer?: RelayObserver;
  /** Where rooms live; default: this process only (memory-directory.ts). */
  directory?: (events: DirectoryEvents) => RoomDirectory;
  /** How envelopes reach other nodes; default: there are none. */
  bus?: Bus;
}

/**
 * Acks are coalesced over this long: one `ack` for every frame read in that time. It is then
 * due, and goes in the same write as the next frame to the connection, or alone after as long
 * again: under load that is at once, and costs no write of its own.
 */
export const ACK_DELAY_MS = 10;

export interface RelayStats {
  connections: number;
  rooms: number;
}

export interface Relay {
  /** Hands an HTTP upgrade request to the relay; path, Origin and connection limits are checked here. */
  handleUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer): void;
  /**
   * Takes a connection that another transport admitted (link.ts): from then on it is a peer
   * like a WebSocket one, with the same rate limit, seats and routing. `address` is the
   * client's address as the per-client limits count it (client-address.ts). Its transport
   * reports what happens to it through the returned events.
   */
  attach(link: Link, address: string): LinkEvents;
  /**
   * Admits a connection of another transport against the same connection limits as WebSocket
   * ones (in all and per address), counting it until `socket` closes; or says why not.
   */
  admit(address: string, socket: Pick<Duplex, 'once'>): Refusal | undefined;
  stats(): RelayStats;
  /** Refuses new upgrades, closes every connection with 1001 and resolves once all are closed. */
  close(): Promise<void>;
}

function isSuiteId(value: string): value is SuiteId {
  return (SUITE_IDS as readonly string[]).includes(value);
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
  const peers = new Peers(bus.node);
  const router = new Router({
    bus,
    peers,
    batch: new WriteBatch(),
    observer,
    maxBufferedBytes: options.maxBufferedBytes,
    dropSlowReader: (peer) => drop(peer, CLOSE.tryAgainLater, 'slow reader'),
  });
  const events = directoryEvents(router, peers, observer);
  const directory = options.directory?.(events) ?? new MemoryRoomDirectory(options, events);
  let closing = false;

  const heartbeat = setInterval(() => {
    for (const peer of peers.values()) {
      try {
        if (!peer.alive) {
          observer.dropped(CLOSE.abnormal);
          peer.link.terminate(); // 'close' follows: the seat is held and the partner told
          continue;
        }
        peer.alive = false;
        peer.link.ping();
      } catch (error) {
        onInternalError(error);
      }
    }
  }, options.heartbeatMs);
  heartbeat.unref();

  const tell = (peer: Peer | undefined, message: ServerMessage) => router.tell(peer, message);

  /** An error for `peer`: told at once, or counted into the next one of its code (error-notices.ts). */
  function sendError(peer: Peer, code: RelayErrorCode, details?: () => ErrorDetails): void {
    peer.errors.report(code, details);
  }

  const rate = { burst: options.messageBurst, perSecond: options.messagesPerSecond };
  const seated = (seat: SeatRef, token: string, partner: { at: Location | undefined } | undefined) => ({
    room: seat.room,
    suite: seat.suite,
    role: roleOf(seat.index),
    partner: partner !== undefined,
    partnerAway: partner !== undefined && partner.at === undefined,
    token,
    rate,
  });

  /** `leave`, or a deliberate close: the seat is free at once. */
  async function leaveRoom(peer: Peer): Promise<void> {
    const seat = peer.seat;
    if (!seat) return;
    peer.seat = peer.partner = undefined;
    observer.seat('left');
    router.notify(await directory.release(seat, peer.at), { type: 'partner-left' });
  }

  /** The connection is gone but may come back: the seat is held for `seatGraceMs`. */
  async function holdSeat(peer: Peer): Promise<void> {
    if (!peer.seat) return;
    if (closing) return leaveRoom(peer);
    const seat = peer.seat;
    peer.seat = peer.partner = undefined;
    observer.seat('held');
    router.notify(await directory.hold(seat, peer.at), { type: 'partner-away' });
  }

  /** Runs `task` after this connection's earlier work; a failure costs this connection only. */
  function enqueue(peer: Peer, task: () => Promise<void> | void): void {
    peer.work.run(task, (error) => {
      onInternalError(error);
      drop(peer, CLOSE.internalError, 'internal error');
    });
  }

  /** Closes a connection, holding its seat now rather than when the close handshake ends. */
  function drop(peer: Peer, code: number, reason: string): void {
    if (peer.link.open) observer.dropped(code);
    const seat = peer.seat;
    if (seat && !closing) {
      peer.seat = peer.partner = undefined;
      observer.seat('held');
      void directory
        .hold(seat, peer.at)
        .then((partner) => router.notify(partner, { type: 'partner-away' }), onInternalError);
    }
    peer.link.close(code, reason);
  }

  /**
   * A connection that closed while its seat was being taken keeps the seat all the same: the
   * close, queued behind this work, frees or holds it as for any seated connection, and a client
   * whose answer was lost comes back for it with its token.
   */
  async function onJoin(peer: Peer, join: JoinMessage, token: string): Promise<void> {
    const { room, suite, version = 1 } = join;
    if (peer.seat) return sendError(peer, 'already-joined');
    if (!isSuiteId(suite)) return sendError(peer, 'bad-suite'); // parseClientMessage checked it already
    peers.renumber(peer);
    const result = await directory.join(room, suite, peer.at, token, version);
    if (!result.ok) {
      // Both sides learn of a mismatch: the one seated would otherwise wait for ever. Another
      // version of the same suite is told as `suite-mismatch`, which pages of every version
      // understand, since either page may be the out-of-date one that must be reloaded.
      if (result.code === 'suite-mismatch')
        router.notify(
          result.occupant,
          result.otherVersion
            ? errorReply('suite-mismatch')
            : { type: 'partner-refused', code: 'suite-mismatch', suite },
        );
      return sendError(peer, result.code);
    }
    const replaced = result.again?.replaced;
    if (replaced) router.deliver(replaced, { kind: 'replaced', conn: replaced.conn });
    peer.seat = result.seat;
    peer.partner = result.partner?.at;
    observer.seat('joined');
    tell(peer, { type: 'joined', ...seated(result.seat, token, result.partner) });
    // Joined again after a lost answer: the client starts a new session, so its partner does too.
    router.notify(result.partner?.at, { type: 'partner-joined' }, peer.at);
    // Both seats taken, and the joiner asked for it: the first attempt is granted now rather than
    // when the initiator asks, a round trip off the time to a secure channel. It comes out of the
    // same per-room budget; with none left, the initiator's own request is told how long to wait.
    const partnerAt = result.partner?.at;
    if (partnerAt && join.grantOnSeat && result.seat.suite === 'modern') await grantAttempt(peer, partnerAt);
  }

  async function onResume(peer: Peer, room: string, token: string, next: string): Promise<void> {
    if (peer.seat) return sendError(peer, 'already-joined');
    if (!roomCode.safeParse(room).success || !seatToken.safeParse(token).success)
      return sendError(peer, 'resume-failed');
    peers.renumber(peer);
    const result = await directory.resume(room, token, next, peer.at);
    if (!result.ok) {
      router.notify(result.releasedPartner, { type: 'partner-left' });
      return sendError(peer, 'resume-failed');
    }
    if (result.replaced) router.deliver(result.replaced, { kind: 'replaced', conn: result.replaced.conn });
    peer.seat = result.seat;
    peer.partner = result.partner?.at;
    observer.seat('resumed');
    tell(peer, { type: 'resumed', ...seated(result.seat, next, result.partner) });
    router.notify(result.partner?.at, { type: 'partner-back' }, peer.at);
  }

  async function onHandshake(peer: Peer): Promise<void> {
    if (!peer.seat) return sendError(peer, 'not-joined');
    if (!peer.partner) return sendError(peer, 'no-partner');
    const retryAfterMs = await grantAttempt(peer, peer.partner);
    if (retryAfterMs === undefined) return;
    const retryAt = now() + retryAfterMs;
    sendError(peer, 'rate-limited', () => ({ retryAfterMs: Math.max(0, retryAt - now()) }));
  }

  /**
   * Takes an attempt from the room's budget and grants it to both seats, or returns how long
   * until one is left. The same grant to both: the nonce is the relay's share of the CPace
   * session id.
   */
  async function grantAttempt(peer: Peer, partner: Location): Promise<number | undefined> {
    if (!peer.seat) return undefined;
    const decision = await directory.takeAttempt(peer.seat.room, peer.client, now());
    observer.handshake(decision.granted);
    if (!decision.granted) return decision.retryAfterMs;
    const grant: ServerMessage = { type: 'handshake', attempt: decision.attempt, nonce: newToken() };
    tell(peer, grant);
    router.notify(partner, grant);
    return undefined;
  }

  function onControl(peer: Peer, message: ClientMessage): Promise<void> | void {
    switch (message.type) {
      case 'join':
        return onJoin(peer, message, message.token ?? newToken());
      case 'leave':
        if (!peer.seat) return sendError(peer, 'not-joined');
        return leaveRoom(peer);
      case 'handshake':
        return onHandshake(peer);
      case 'resume':
        return onResume(peer, message.room, message.token, message.next ?? newToken());
      default: {
        const unhandled: never = message;
        throw new Error(`unhandled control message ${String(unhandled)}`);
      }
    }
  }

  /**
   * Acknowledges binary frames read, with the running count, at most once per ACK_DELAY_MS.
   * Once due, the `ack` rides with the next frame written to the connection (Router.sendDueAck):
   * each one alone was a write, and under load a wake-up of the client, of its own.
   */
  function scheduleAck(peer: Peer): void {
    if (peer.ackScheduled) return;
    peer.ackScheduled = true;
    setTimeout(() => {
      peer.ackDue = true;
      setTimeout(() => router.sendDueAck(peer), ACK_DELAY_MS);
    }, ACK_DELAY_MS);
  }

  function onBinary(peer: Peer, data: Buffer, alone = false): void {
    if (!peer.seat) return sendError(peer, 'not-joined');
    if (!peer.partner) return sendError(peer, 'no-partner');
    router.forward(peer.partner, data, alone);
  }

  /**
   * The byte rate limit shapes rather than drops: a connection over its rate is not read from
   * until it is back within it, so TCP holds the sender back and a file slows down instead of
   * losing chunks. Other connections, and this one's partner, are not held up.
   */
  function shape(peer: Peer, length: number, at: number): void {
    const waitMs = peer.bytes.charge(at, length);
    if (waitMs === 0 || peer.throttled || !peer.link.pause || !peer.link.resume) return;
    peer.throttled = true;
    observer.throttled();
    peer.link.pause();
    const wake = () => {
      // Frames already buffered when it paused were charged meanwhile: wait for those too.
      const left = peer.bytes.charge(now(), 0);
      if (left > 0 && peer.link.open) return void setTimeout(wake, left).unref();
      peer.throttled = false;
      peer.link.resume?.();
    };
    setTimeout(wake, waitMs).unref();
  }

  function onMessage(peer: Peer, bytes: Buffer, isBinary: boolean, alone: boolean): void {
    if (!peer.link.open) return; // closing: nothing more is acted on
    const at = now();
    if (isBinary) {
      peer.binaryFrames += 1; // acks number every frame read, in order, whatever becomes of it
      scheduleAck(peer);
      shape(peer, bytes.length, at);
    }
    if (!peer.frames.take(at)) {
      return sendError(peer, 'rate-limited', () => ({ retryAfterMs: peer.frames.waitMs(at) }));
    }
    // Everything after the rate limit waits its turn, so answers keep the order of the frames.
    // A binary frame with nothing ahead of it goes at once, allocating nothing (the hot path).
    if (isBinary && !peer.work.busy) return onBinary(peer, bytes, alone);
    enqueue(peer, () => {
      if (!peer.link.open) return;
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

  /** A connection from its first frame to its close. */
  function attach(link: Link, address: string): LinkEvents {
    const errors = new ErrorNotices(options.errorNoticeMs ?? ERROR_NOTICE_MS, now, (code, details, count) => {
      observer.error(code);
      tell(peer, errorReply(code, { ...details, ...(count === undefined ? {} : { count }) }));
    });
    const peer = peers.add(
      link,
      address,
      new TokenBucket(options.messageBurst, 1000 / options.messagesPerSecond, now()),
      new TokenBucket(options.byteBurst, 1000 / options.bytesPerSecond, now()),
      errors,
    );
    return {
      // Methods, not arrow properties: under tsx each arrow here would also get its name
      // redefined, a dictionary of properties per connection (relay/ws-link.ts says more).
      pong() {
        peer.alive = true;
      },
      message(data, isBinary, alone = false) {
        try {
          onMessage(peer, data, isBinary, alone);
        } catch (error) {
          // A bug must cost one connection, never the relay.
          onInternalError(error);
          drop(peer, CLOSE.internalError, 'internal error');
        }
      },
      // A protocol violation is no network drop: the seat is freed, not held.
      violation() {
        enqueue(peer, () => leaveRoom(peer));
      },
      closed(code) {
        peers.delete(peer);
        peer.errors.close();
        // A client that says it is done (1000 normal, 1001 page gone, 1005 no code) frees the
        // seat as `leave` does. Anything else (1006: the network or a heartbeat timeout, or an
        // application code from a proxy) may come back: the seat is held.
        peer.work.finally(
          () => (DELIBERATE_CLOSES.has(code) ? leaveRoom(peer) : holdSeat(peer)),
          onInternalError,
        );
      },
    };
  }

  bus.onEnvelope((envelope) => {
    try {
      router.receive(envelope);
    } catch (error) {
      onInternalError(error);
    }
  });

  return {
    handleUpgrade(request, socket, head) {
      socket.on('error', () => socket.destroy());
      try {
        const admission: Admission = closing
          ? { admitted: false, refusal: { status: 503, reason: 'Service Unavailable' } }
          : gate.check(request, socket);
        if (!admission.admitted) {
          const { status, reason } = admission.refusal;
          observer.refused(status);
          socket.end(`HTTP/1.1 ${status} ${reason}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
          return;
        }
        wss.handleUpgrade(request, socket, head, (ws) =>
          attachWebSocket(ws, (link) => attach(link, admission.address)),
        );
      } catch (error) {
        onInternalError(error);
        socket.destroy();
      }
    },
    attach,
    admit(address, socket) {
      const refusal = closing
        ? { status: 503 as const, reason: 'Service Unavailable' }
        : gate.admit(address, socket);
      if (refusal) observer.refused(refusal.status);
      return refusal;
    },
    stats() {
      return { connections: peers.size, rooms: directory.size };
    },
    async close() {
      closing = true;
      clearInterval(heartbeat);
      const all = [...peers.values()];
      for (const peer of all) peer.link.close(CLOSE.goingAway, 'server shutting down');
      // Resolves once every client is closed; ws cuts those that stall after closeGraceMs.
      await new Promise<void>((resolve) => wss.close(() => resolve()));
      await Promise.all(all.map((peer) => peer.work.idle)); // seats released in the directory
      await directory.close();
      await bus.close();
    },
  };
}
