/**
 * The in-process room directory (the default, without `REDIS_URL`): rooms.ts for the rules,
 * handshake-budget.ts for attempts, and one timer per held seat. Every answer is ready at once;
 * the promises only match the shared interface (directory.ts).
 */
import type { SuiteId } from '@duet/core/protocol/control';
import type {
  DirectoryEvents,
  DirectoryJoin,
  DirectoryResume,
  Location,
  PartnerSeat,
  RoomDirectory,
  SeatRef,
} from './directory.ts';
import { HandshakeBudget, type Asker, type AttemptDecision } from './handshake-budget.ts';
import type { Limits } from './limits.ts';
import { Rooms, type Room, type Seat } from './rooms.ts';
import { hashesEqual, hashToken } from './seat-token.ts';

type MemorySeat = Seat<Location>;

const sameLocation = (a: Location | undefined, b: Location): boolean =>
  a !== undefined && a.node === b.node && a.conn === b.conn;

const partnerView = (seat: MemorySeat | undefined): PartnerSeat | undefined => seat && { at: seat.peer };

export class MemoryRoomDirectory implements RoomDirectory {
  readonly #rooms: Rooms<Location>;
  readonly #budget: HandshakeBudget;
  /** Every seat taken or held, by its id. */
  readonly #seats = new Map<string, { room: Room<Location>; seat: MemorySeat }>();
  readonly #ids = new WeakMap<MemorySeat, string>();
  /** Release timers of held seats. */
  readonly #holds = new Map<MemorySeat, NodeJS.Timeout>();
  readonly #nextId = (() => {
    let id = 0;
    return () => String(++id);
  })();

  constructor(
    private readonly limits: Limits,
    private readonly events: DirectoryEvents,
  ) {
    this.#rooms = new Rooms<Location>(limits.maxRooms, hashesEqual);
    this.#budget = new HandshakeBudget({
      burst: limits.handshakeBurst,
      refillMs: limits.handshakeRefillMs,
      memoryMs: limits.handshakeMemoryMs,
      maxRooms: limits.handshakeBudgetRooms,
      perAddress: limits.handshakeBudgetsPerIp,
      perConnection: limits.handshakeBudgetsPerConnection,
      newPerSecond: limits.handshakeNewRoomsPerSecond,
    });
  }

  #ref(room: Room<Location>, seat: MemorySeat): SeatRef {
    let id = this.#ids.get(seat);
    if (id === undefined) {
      id = this.#nextId();
      this.#ids.set(seat, id);
      this.#seats.set(id, { room, seat });
    }
    return { room: room.code, suite: room.suite, index: seat.index, id };
  }

  join(room: string, suite: SuiteId, at: Location, token: string, version = 1): Promise<DirectoryJoin> {
    const result = this.#rooms.join(room, suite, at, hashToken(token), version);
    if (!result.ok) {
      if (result.code !== 'suite-mismatch') return Promise.resolve(result);
      const { occupant, otherVersion } = result;
      return Promise.resolve({ ok: false, code: result.code, occupant: occupant?.peer, otherVersion });
    }
    if (result.again) this.#stopHold(result.seat);
    return Promise.resolve({
      ok: true,
      seat: this.#ref(result.room, result.seat),
      partner: partnerView(result.partner),
      ...(result.again ? { again: result.again } : {}),
    });
  }

  resume(room: string, token: string, next: string, at: Location): Promise<DirectoryResume> {
    const result = this.#rooms.resume(room, hashToken(token), hashToken(next), at);
    if (!result.ok) {
      if (!result.released) return Promise.resolve({ ok: false });
      this.#forget(result.released.seat);
      return Promise.resolve({ ok: false, releasedPartner: result.released.partner?.peer });
    }
    this.#stopHold(result.seat);
    return Promise.resolve({
      ok: true,
      seat: this.#ref(result.room, result.seat),
      partner: partnerView(result.partner),
      replaced: result.replaced,
    });
  }

  release(ref: SeatRef, at: Location): Promise<Location | undefined> {
    const entry = this.#seats.get(ref.id);
    if (!entry || !sameLocation(entry.seat.peer, at)) return Promise.resolve(undefined);
    this.#forget(entry.seat);
    return Promise.resolve(this.#rooms.release(entry.room, entry.seat)?.peer);
  }

  hold(ref: SeatRef, at: Location): Promise<Location | undefined> {
    const entry = this.#seats.get(ref.id);
    if (!entry || !sameLocation(entry.seat.peer, at)) return Promise.resolve(undefined);
    const { room, seat } = entry;
    const partner = this.#rooms.hold(room, seat)?.peer;
    const timer = setTimeout(() => {
      this.#holds.delete(seat);
      if (seat.peer !== undefined) return;
      this.#forget(seat);
      this.events.seatExpired(this.#rooms.release(room, seat)?.peer);
    }, this.limits.seatGraceMs);
    timer.unref();
    this.#holds.set(seat, timer);
    return Promise.resolve(partner);
  }

  takeAttempt(room: string, asker: Asker, now: number): Promise<AttemptDecision> {
    return Promise.resolve(this.#budget.take(room, asker, now));
  }

  get size(): number {
    return this.#rooms.size;
  }

  close(): Promise<void> {
    for (const timer of this.#holds.values()) clearTimeout(timer);
    this.#holds.clear();
    return Promise.resolve();
  }

  #stopHold(seat: MemorySeat): void {
    clearTimeout(this.#holds.get(seat));
    this.#holds.delete(seat);
  }

  #forget(seat: MemorySeat): void {
    this.#stopHold(seat);
    const id = this.#ids.get(seat);
    if (id !== undefined) this.#seats.delete(id);
  }
}
