/**
 * Where rooms live, as the relay sees them: an async directory of seats that either this
 * process keeps (memory-directory.ts, the default) or several relay processes share through
 * Redis (redis/directory.ts, docs/scale-out.md). The relay talks only to this interface, so the
 * seating rules (docs/protocol.md, "Reconnecting") read the same whichever one is behind it.
 *
 * Connections are named by a `Location`: the relay process (node) that holds the socket and the
 * connection's id on it. The directory never sees a socket, and never a payload.
 */
import type { RelayErrorCode, SuiteId } from '@duet/core/protocol/control';
import type { AttemptDecision, Asker } from './handshake-budget.ts';
import type { SeatIndex } from './rooms.ts';

/** A connection: the node holding its socket, and its id there. */
export interface Location {
  readonly node: string;
  readonly conn: string;
}

/** A seat as its holder refers to it; `id` tells this seat apart from a later one in the same place. */
export interface SeatRef {
  readonly room: string;
  readonly suite: SuiteId;
  readonly index: SeatIndex;
  readonly id: string;
}

/** The other seat: `at` is its connection, undefined while the seat is held for a dropped one. */
export interface PartnerSeat {
  readonly at: Location | undefined;
}

export type DirectoryJoin =
  | {
      ok: true;
      seat: SeatRef;
      partner: PartnerSeat | undefined;
      /**
       * The seat was this client's already (a repeated `join`, its answer lost): the connection
       * that still sat there, if any; its node closes it with 1000.
       */
      again?: { replaced: Location | undefined };
    }
  | {
      ok: false;
      code: Extract<RelayErrorCode, 'room-full' | 'suite-mismatch' | 'server-busy'>;
      /**
       * With `suite-mismatch`: the connection seated in the room, to be told too: `partner-refused`
       * for another suite, `suite-mismatch` for the same suite at another version.
       */
      occupant?: Location | undefined;
      /** With `suite-mismatch`: the suite matched, its version did not. */
      otherVersion?: boolean;
    };

export type DirectoryResume =
  | {
      ok: true;
      seat: SeatRef;
      partner: PartnerSeat | undefined;
      /** The connection that still sat there (a half-open one): its node closes it with 1000. */
      replaced: Location | undefined;
    }
  | {
      ok: false;
      /** Set when a held seat was given up because its partnership ended: tell it partner-left. */
      releasedPartner?: Location | undefined;
    };

/** What the directory tells the relay on its own, outside any call. */
export interface DirectoryEvents {
  /** A held seat's grace period ended and it was freed; `partner` (if connected) gets partner-left. */
  seatExpired(partner: Location | undefined): void;
  /** A seat's node stopped answering; its seat is now held; `partner` (if connected) gets partner-away. */
  seatOrphaned(partner: Location | undefined): void;
  /**
   * The other nodes took this one for crashed (it could not reach Redis for a while) and hold
   * its seats: every connection must be closed, so that its client resumes the seat.
   */
  evicted(): void;
}

export interface RoomDirectory {
  /**
   * Seats the connection `at` in `room` (created if needed) with the seat token `token`: in the
   * seat that has that token already if there is one (docs/protocol.md, "Lost answers"), else
   * in the first free seat. A room holds one suite at one version (docs/protocol.md, "Versions").
   */
  join(room: string, suite: SuiteId, at: Location, token: string, version?: number): Promise<DirectoryJoin>;
  /**
   * Gives the seat whose token is `token`, or already `next`, to `at`, and moves it to `next`
   * (docs/protocol.md, "Reconnecting").
   */
  resume(room: string, token: string, next: string, at: Location): Promise<DirectoryResume>;
  /**
   * Frees a seat at once; returns the connected partner, to be told partner-left. Does nothing
   * unless `at` still sits there (the seat may have been resumed on another connection).
   */
  release(seat: SeatRef, at: Location): Promise<Location | undefined>;
  /**
   * Holds a dropped connection's seat for `seatGraceMs`; returns the connected partner, to be
   * told partner-away. Does nothing unless `at` still sits there.
   */
  hold(seat: SeatRef, at: Location): Promise<Location | undefined>;
  /**
   * Takes one handshake attempt from `room`'s budget (handshake-budget.ts); a new budget is
   * charged to `asker`.
   */
  takeAttempt(room: string, asker: Asker, now: number): Promise<AttemptDecision>;
  /** Rooms with a seat taken or held (as last known, for metrics). */
  readonly size: number;
  /** Stops timers and connections; seats still taken are left to expire. */
  close(): Promise<void>;
}
