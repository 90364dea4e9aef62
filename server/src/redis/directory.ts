/**
 * The shared room directory: seats in Redis, taken and freed by the Lua scripts in scripts.ts,
 * so that several relay nodes behind one load balancer share rooms (docs/scale-out.md).
 *
 * Each node keeps `duet:alive:<node>` alive (TTL `nodeTtlMs`) and, every `sweepMs`, frees held
 * seats whose grace has passed (any node may: the script is atomic) and holds the seats of nodes
 * whose key expired (a crash): those become resumable for `seatGraceMs`, then freed.
 */
import type { Redis } from 'ioredis';
import type { SuiteId } from '@duet/core/protocol/control';
import type {
  DirectoryEvents,
  DirectoryJoin,
  DirectoryResume,
  Location,
  PartnerSeat,
  RoomDirectory,
  SeatRef,
} from '../directory.ts';
import type { Asker, AttemptDecision } from '../handshake-budget.ts';
import type { Limits } from '../limits.ts';
import type { SeatIndex } from '../rooms.ts';
import { hashToken, newToken } from '../seat-token.ts';
import { EXPIRE, HOLD, JOIN, RELEASE, REAP, RESUME, TAKE_ATTEMPT } from './scripts.ts';

/** A connection as the scripts write it; `false` or absent when there is none. */
type Wire = { n: string; c: string } | false | undefined;
type WireView = { away: boolean; n: string; c: string } | undefined;

const location = (wire: Wire): Location | undefined => (wire ? { node: wire.n, conn: wire.c } : undefined);
const partnerSeat = (view: WireView): PartnerSeat | undefined =>
  view && { at: view.away ? undefined : { node: view.n, conn: view.c } };
/** cjson writes an empty Lua table as `{}`. */
const list = <T>(value: unknown): T[] => (Array.isArray(value) ? (value as T[]) : []);

export interface RedisDirectoryOptions extends Limits {
  /** A connection used for commands only (not subscribed). */
  redis: Redis;
  node: string;
}

export class RedisRoomDirectory implements RoomDirectory {
  readonly #redis: Redis;
  readonly #node: string;
  readonly #timer: NodeJS.Timeout;
  #size = 0;
  #registered = false;
  #sweeping: Promise<void> = Promise.resolve();

  constructor(
    private readonly options: RedisDirectoryOptions,
    private readonly events: DirectoryEvents,
    /** Called with errors of the background sweep (Redis down, say). */
    private readonly onError: (error: unknown) => void,
  ) {
    this.#redis = options.redis;
    this.#node = options.node;
    const sweepMs = Math.max(10, Math.min(1000, Math.floor(options.nodeTtlMs / 3)));
    this.#timer = setInterval(() => this.#tick(), sweepMs);
    this.#timer.unref();
  }

  /** Registers this node; call once before serving. */
  async start(): Promise<void> {
    await this.#beat();
  }

  async #run(script: string, ...args: (string | number)[]): Promise<unknown> {
    const answer = await this.#redis.eval(script, 0, ...args);
    return typeof answer === 'string' ? JSON.parse(answer) : answer;
  }

  async join(room: string, suite: SuiteId, at: Location, token: string, version = 1): Promise<DirectoryJoin> {
    const answer = (await this.#run(
      JOIN,
      room,
      suite,
      at.node,
      at.conn,
      hashToken(token),
      newToken(),
      this.options.maxRooms,
      version,
    )) as
      | { e: 'room-full' | 'suite-mismatch' | 'server-busy'; o?: Wire; v?: 0 | 1 }
      | { i: SeatIndex; id: string; p?: WireView; again?: 1; rp?: Wire };
    if ('e' in answer)
      return { ok: false, code: answer.e, occupant: location(answer.o), otherVersion: answer.v === 1 };
    return {
      ok: true,
      seat: { room, suite, index: answer.i, id: answer.id },
      partner: partnerSeat(answer.p),
      ...(answer.again ? { again: { replaced: location(answer.rp) } } : {}),
    };
  }

  async resume(room: string, token: string, next: string, at: Location): Promise<DirectoryResume> {
    const answer = (await this.#run(RESUME, room, hashToken(token), at.node, at.conn, hashToken(next))) as
      { f: 1; rp?: Wire } | { i: SeatIndex; id: string; suite: SuiteId; p?: WireView; rp?: Wire };
    if ('f' in answer) return { ok: false, releasedPartner: location(answer.rp) };
    return {
      ok: true,
      seat: { room, suite: answer.suite, index: answer.i, id: answer.id },
      partner: partnerSeat(answer.p),
      replaced: location(answer.rp),
    };
  }

  async release(seat: SeatRef, at: Location): Promise<Location | undefined> {
    const answer = (await this.#run(RELEASE, seat.room, seat.index, seat.id, at.node, at.conn)) as {
      p?: Wire;
    };
    return location(answer.p);
  }

  async hold(seat: SeatRef, at: Location): Promise<Location | undefined> {
    const until = Date.now() + this.options.seatGraceMs;
    const answer = (await this.#run(HOLD, seat.room, seat.index, seat.id, until, at.node, at.conn)) as {
      p?: Wire;
    };
    return location(answer.p);
  }

  async takeAttempt(room: string, asker: Asker, now: number): Promise<AttemptDecision> {
    const o = this.options;
    const [granted, value] = (await this.#run(
      TAKE_ATTEMPT,
      room,
      now,
      o.handshakeBurst,
      o.handshakeRefillMs,
      o.handshakeMemoryMs,
      o.handshakeBudgetRooms,
      o.handshakeBudgetsPerIp,
      o.handshakeBudgetsPerConnection,
      o.handshakeNewRoomsPerSecond,
      asker.address,
      asker.connection,
    )) as [number, number];
    return granted === 1 ? { granted: true, attempt: value } : { granted: false, retryAfterMs: value };
  }

  get size(): number {
    return this.#size;
  }

  /** Deregisters this node. The relay has released its seats by now. */
  async close(): Promise<void> {
    clearInterval(this.#timer);
    await this.#sweeping;
    await this.#redis.multi().del(`duet:alive:${this.#node}`).srem('duet:nodes', this.#node).exec();
  }

  /** Renews this node's presence; a node that finds itself forgotten was reaped (scripts.ts, REAP). */
  async #beat(): Promise<void> {
    const results = await this.#redis
      .multi()
      .set(`duet:alive:${this.#node}`, '1', 'PX', this.options.nodeTtlMs)
      .sadd('duet:nodes', this.#node)
      .exec();
    const added = results?.[1]?.[1];
    if (added === 1 && this.#registered) this.events.evicted();
    this.#registered = true;
  }

  #tick(): void {
    this.#sweeping = this.#sweeping
      .then(async () => {
        await this.#beat();
        const expired = list<{ p: Wire }>(await this.#run(EXPIRE, Date.now(), 100));
        for (const { p } of expired) this.events.seatExpired(location(p));
        const orphaned = list<{ p: Wire }>(await this.#run(REAP, Date.now() + this.options.seatGraceMs));
        for (const { p } of orphaned) this.events.seatOrphaned(location(p));
        this.#size = await this.#redis.scard('duet:rooms');
      })
      .catch(this.onError);
  }
}
