/**
 * The room registry: rooms of exactly two seats. Pure bookkeeping with no sockets and no
 * timers, so the rules (who sits where, who is refused, who may come back) are tested alone.
 *
 * Seat 0 is the initiator and seat 1 the responder: roles come from here. A seat is
 *   - connected: `peer` is set;
 *   - held: its connection dropped, `peer` is undefined, and the seat waits for `resume` with
 *     its token until the relay calls `release` (docs/protocol.md, "Reconnecting");
 *   - free: the slot is `undefined`.
 * The first joiner fixes the room's suite and its version; a room with no seat taken is deleted.
 *
 * A seat is found by its token, which its client chose. Both `join` and `resume` are safe to
 * repeat after a lost answer (docs/protocol.md, "Lost answers"): a `join` with the token of a
 * seat in the room gets that seat back, and a `resume` matches the seat's token or the one it
 * asked the seat to move to. Tokens are kept and compared as the directory passes them (their
 * SHA-256, compared in constant time: memory-directory.ts), never the token itself.
 */
import type { RelayErrorCode, Role, SuiteId } from '@duet/core/protocol/control';

export type SeatIndex = 0 | 1;

export interface Seat<P> {
  readonly index: SeatIndex;
  /** The connection in the seat; undefined while the seat is held for a dropped one. */
  peer: P | undefined;
  /** The hash of the seat token, which takes the seat back; a new one after every resume. */
  tokenHash: string;
  /** While held: the partner seat as it was when the connection dropped. */
  partnerAtDrop?: Seat<P> | undefined;
}

export interface Room<P> {
  readonly code: string;
  /** Fixed by the first joiner; a joiner with the other suite is refused. */
  readonly suite: SuiteId;
  /** The suite's payload version, fixed by the first joiner too; a joiner with another is refused. */
  readonly version: number;
  readonly seats: [Seat<P> | undefined, Seat<P> | undefined];
}

export type JoinResult<P> =
  | {
      ok: true;
      room: Room<P>;
      seat: Seat<P>;
      partner: Seat<P> | undefined;
      /**
       * The seat was this client's already (it repeated a `join` whose answer it lost): the
       * connection that still sat there, if any, now out of the seat.
       */
      again?: { replaced: P | undefined };
    }
  | { ok: false; code: Extract<RelayErrorCode, 'room-full' | 'server-busy'> }
  /**
   * `occupant`: the one seat taken, whose holder is told (docs/protocol.md, `partner-refused`);
   * `otherVersion`: the suite matched but not its version (docs/protocol.md, "Versions").
   */
  | { ok: false; code: 'suite-mismatch'; occupant: Seat<P> | undefined; otherVersion: boolean };

export type ResumeResult<P> =
  | {
      ok: true;
      room: Room<P>;
      seat: Seat<P>;
      partner: Seat<P> | undefined;
      /** The connection that still sat there (a half-open one), now out of the seat. */
      replaced: P | undefined;
    }
  | {
      ok: false;
      /** Set when a held seat was given up because its partnership ended. */
      released?: { room: Room<P>; seat: Seat<P>; partner: Seat<P> | undefined };
    };

export function roleOf(seat: SeatIndex): Role {
  return seat === 0 ? 'initiator' : 'responder';
}

export function otherSeat(seat: SeatIndex): SeatIndex {
  return seat === 0 ? 1 : 0;
}

export class Rooms<P> {
  readonly #rooms = new Map<string, Room<P>>();

  /** `same` compares two token hashes (in constant time, in the directory). */
  constructor(
    private readonly maxRooms: number,
    private readonly same: (a: string, b: string) => boolean = (a, b) => a === b,
  ) {}

  /**
   * Seats `peer` in room `code`, creating the room if needed: in the seat whose token is
   * `tokenHash` if there is one (the same client again), else in the first free seat.
   */
  join(code: string, suite: SuiteId, peer: P, tokenHash: string, version = 1): JoinResult<P> {
    let room = this.#rooms.get(code);
    const own = room && this.#find(room, [tokenHash]);
    if (room && own) {
      const mismatch = this.#mismatch(room, suite, version, own.index);
      if (mismatch) return mismatch;
      const replaced = own.peer;
      own.peer = peer;
      own.partnerAtDrop = undefined;
      return { ok: true, room, seat: own, partner: this.partnerOf(room, own), again: { replaced } };
    }
    if (!room) {
      if (this.#rooms.size >= this.maxRooms) return { ok: false, code: 'server-busy' };
      room = { code, suite, version, seats: [undefined, undefined] };
      this.#rooms.set(code, room);
    }
    const index: SeatIndex | undefined =
      room.seats[0] === undefined ? 0 : room.seats[1] === undefined ? 1 : undefined;
    if (index === undefined) return { ok: false, code: 'room-full' };
    const mismatch = this.#mismatch(room, suite, version, index);
    if (mismatch) return mismatch;
    const seat: Seat<P> = { index, peer, tokenHash };
    room.seats[index] = seat;
    return { ok: true, room, seat, partner: room.seats[otherSeat(index)] };
  }

  /** `suite-mismatch` for a joiner at seat `index` whose suite or version is not the room's. */
  #mismatch(room: Room<P>, suite: SuiteId, version: number, index: SeatIndex): JoinResult<P> | undefined {
    if (room.suite === suite && room.version === version) return undefined;
    const occupant = room.seats[otherSeat(index)];
    return { ok: false, code: 'suite-mismatch', occupant, otherVersion: room.suite === suite };
  }

  /** Frees a seat; returns the partner seat, if taken. A room with no seat taken is deleted. */
  release(room: Room<P>, seat: Seat<P>): Seat<P> | undefined {
    if (room.seats[seat.index] === seat) room.seats[seat.index] = undefined;
    const partner = room.seats[otherSeat(seat.index)];
    const empty = room.seats[0] === undefined && room.seats[1] === undefined;
    if (empty && this.#rooms.get(room.code) === room) this.#rooms.delete(room.code);
    return partner;
  }

  /** The seat's connection dropped: keep the seat for `resume`; returns the partner seat. */
  hold(room: Room<P>, seat: Seat<P>): Seat<P> | undefined {
    seat.peer = undefined;
    seat.partnerAtDrop = room.seats[otherSeat(seat.index)];
    return seat.partnerAtDrop;
  }

  /**
   * Gives the seat whose token is `tokenHash` to `peer` and moves it to `nextHash`. A seat
   * already at `nextHash` matches too: this client's earlier `resume` was carried out and its
   * answer lost. Refused when no seat matches, or when the seat's partner changed while it was
   * held (the one who left, or a newcomer, cannot continue the old conversation): that seat is
   * then released.
   */
  resume(code: string, tokenHash: string, nextHash: string, peer: P): ResumeResult<P> {
    const room = this.#rooms.get(code);
    if (!room) return { ok: false };
    const seat = this.#find(room, [tokenHash, nextHash]);
    if (!seat) return { ok: false };
    const partner = room.seats[otherSeat(seat.index)];
    if (seat.peer === undefined && seat.partnerAtDrop !== undefined && seat.partnerAtDrop !== partner) {
      return { ok: false, released: { room, seat, partner: this.release(room, seat) } };
    }
    const replaced = seat.peer;
    seat.peer = peer;
    seat.tokenHash = nextHash;
    seat.partnerAtDrop = undefined;
    return { ok: true, room, seat, partner, replaced };
  }

  /** The seat whose token hash is one of `hashes`; every seat is compared with every hash. */
  #find(room: Room<P>, hashes: string[]): Seat<P> | undefined {
    let found: Seat<P> | undefined;
    for (const seat of room.seats) {
      if (seat === undefined) continue;
      for (const hash of hashes) if (this.same(seat.tokenHash, hash)) found ??= seat;
    }
    return found;
  }

  partnerOf(room: Room<P>, seat: Seat<P>): Seat<P> | undefined {
    return room.seats[otherSeat(seat.index)];
  }

  /** Rooms with at least one seat taken or held. */
  get size(): number {
    return this.#rooms.size;
  }
}
