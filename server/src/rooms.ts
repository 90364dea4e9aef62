/**
 * The room registry: rooms of exactly two seats. Pure bookkeeping with no sockets and no
 * timers, so the rules (who sits where, who is refused, who may come back) are tested alone.
 *
 * Seat 0 is the initiator and seat 1 the responder: roles come from here. A seat is
 *   - connected: `peer` is set;
 *   - held: its connection dropped, `peer` is undefined, and the seat waits for `resume` with
 *     its token until the relay calls `release` (docs/protocol.md, "Reconnecting");
 *   - free: the slot is `undefined`.
 * The first joiner fixes the room's suite; a room with no seat taken is deleted.
 */
import type { RelayErrorCode, Role, SuiteId } from '@duet/core/protocol/control';

export type SeatIndex = 0 | 1;

export interface Seat<P> {
  readonly index: SeatIndex;
  /** The connection in the seat; undefined while the seat is held for a dropped one. */
  peer: P | undefined;
  /** The secret that takes the seat back; a fresh one after every join and resume. */
  token: string;
  /** While held: the partner seat as it was when the connection dropped. */
  partnerAtDrop?: Seat<P> | undefined;
}

export interface Room<P> {
  readonly code: string;
  /** Fixed by the first joiner; a joiner with the other suite is refused. */
  readonly suite: SuiteId;
  readonly seats: [Seat<P> | undefined, Seat<P> | undefined];
}

export type JoinResult<P> =
  | { ok: true; room: Room<P>; seat: Seat<P>; partner: Seat<P> | undefined }
  | { ok: false; code: Extract<RelayErrorCode, 'room-full' | 'server-busy'> }
  /** `occupant`: the one seat taken, whose holder is told (docs/protocol.md, `partner-refused`). */
  | { ok: false; code: 'suite-mismatch'; occupant: Seat<P> | undefined };

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

  constructor(private readonly maxRooms: number) {}

  /** Seats `peer` in the first free seat of room `code`, creating the room if needed. */
  join(code: string, suite: SuiteId, peer: P, token: string): JoinResult<P> {
    let room = this.#rooms.get(code);
    if (!room) {
      if (this.#rooms.size >= this.maxRooms) return { ok: false, code: 'server-busy' };
      room = { code, suite, seats: [undefined, undefined] };
      this.#rooms.set(code, room);
    }
    const index: SeatIndex | undefined =
      room.seats[0] === undefined ? 0 : room.seats[1] === undefined ? 1 : undefined;
    if (index === undefined) return { ok: false, code: 'room-full' };
    if (room.suite !== suite)
      return { ok: false, code: 'suite-mismatch', occupant: room.seats[otherSeat(index)] };
    const seat: Seat<P> = { index, peer, token };
    room.seats[index] = seat;
    return { ok: true, room, seat, partner: room.seats[otherSeat(index)] };
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
   * Gives the seat whose token is `token` to `peer`, with `newToken`. Refused when no seat has
   * that token, or when the seat's partner changed while it was held (the one who left, or a
   * newcomer, cannot continue the old conversation): that seat is then released.
   * `tokensEqual` compares tokens (in constant time, in the relay).
   */
  resume(
    code: string,
    token: string,
    peer: P,
    newToken: string,
    tokensEqual: (a: string, b: string) => boolean,
  ): ResumeResult<P> {
    const room = this.#rooms.get(code);
    if (!room) return { ok: false };
    const seat = room.seats.find(
      (candidate) => candidate !== undefined && tokensEqual(candidate.token, token),
    );
    if (!seat) return { ok: false };
    const partner = room.seats[otherSeat(seat.index)];
    if (seat.peer === undefined && seat.partnerAtDrop !== undefined && seat.partnerAtDrop !== partner) {
      return { ok: false, released: { room, seat, partner: this.release(room, seat) } };
    }
    const replaced = seat.peer;
    seat.peer = peer;
    seat.token = newToken;
    seat.partnerAtDrop = undefined;
    return { ok: true, room, seat, partner, replaced };
  }

  partnerOf(room: Room<P>, seat: Seat<P>): Seat<P> | undefined {
    return room.seats[otherSeat(seat.index)];
  }

  /** Rooms with at least one seat taken or held. */
  get size(): number {
    return this.#rooms.size;
  }
}
