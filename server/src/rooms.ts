/**
 * The room registry: rooms of exactly two seats. Pure bookkeeping with no sockets, so the
 * rules (who sits where, who is refused) are tested on their own.
 * Seat 0 is the initiator and seat 1 the responder: roles come from here.
 */
import type { RelayErrorCode, Role, SuiteId } from '@duet/core/protocol/control';

export type SeatIndex = 0 | 1;

export interface Room<P> {
  readonly code: string;
  /** Fixed by the first joiner; a joiner with the other suite is refused. */
  readonly suite: SuiteId;
  readonly seats: [P | undefined, P | undefined];
}

export type JoinResult<P> =
  | { ok: true; room: Room<P>; seat: SeatIndex; role: Role; partner: P | undefined }
  | { ok: false; code: Extract<RelayErrorCode, 'room-full' | 'suite-mismatch' | 'server-busy'> };

export function roleOf(seat: SeatIndex): Role {
  return seat === 0 ? 'initiator' : 'responder';
}

export class Rooms<P> {
  readonly #rooms = new Map<string, Room<P>>();

  constructor(private readonly maxRooms: number) {}

  join(code: string, suite: SuiteId, peer: P): JoinResult<P> {
    let room = this.#rooms.get(code);
    if (!room) {
      if (this.#rooms.size >= this.maxRooms) return { ok: false, code: 'server-busy' };
      room = { code, suite, seats: [undefined, undefined] };
      this.#rooms.set(code, room);
    }
    const seat: SeatIndex | undefined =
      room.seats[0] === undefined ? 0 : room.seats[1] === undefined ? 1 : undefined;
    if (seat === undefined) return { ok: false, code: 'room-full' };
    if (room.suite !== suite) return { ok: false, code: 'suite-mismatch' };
    room.seats[seat] = peer;
    return { ok: true, room, seat, role: roleOf(seat), partner: room.seats[seat === 0 ? 1 : 0] };
  }

  /** Frees a seat; returns the partner still in the room, if any. Empty rooms are deleted. */
  leave(room: Room<P>, seat: SeatIndex): P | undefined {
    room.seats[seat] = undefined;
    const partner = room.seats[seat === 0 ? 1 : 0];
    if (partner === undefined) this.#rooms.delete(room.code);
    return partner;
  }

  partnerOf(room: Room<P>, seat: SeatIndex): P | undefined {
    return room.seats[seat === 0 ? 1 : 0];
  }

  get size(): number {
    return this.#rooms.size;
  }
}
