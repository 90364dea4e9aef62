/**
 * What the relay tells the outside world about itself: counts and codes, never a payload, a
 * room code, a token or an address. Metrics (metrics.ts) and logs (log.ts) both listen here.
 */
import type { RelayErrorCode } from '@duet/core/protocol/control';

export type SeatEvent = 'joined' | 'left' | 'held' | 'resumed' | 'expired';

export interface RelayObserver {
  /** One binary frame passed to a partner. */
  relayed(bytes: number): void;
  /** An `error` message sent to a client. */
  error(code: RelayErrorCode): void;
  /** An upgrade refused with this HTTP status. */
  refused(status: number): void;
  seat(event: SeatEvent): void;
  /** A handshake attempt asked for: granted, or refused by the room's budget. */
  handshake(granted: boolean): void;
  /** A bug caught while handling one connection (its name only). */
  internalError(name: string): void;
  /** A connection over its byte rate: the relay stopped reading it for a while. */
  throttled(): void;
  /**
   * The relay ended a connection because of it: 1013 a slow reader (its backlog passed
   * MAX_BUFFERED_BYTES), 1011 an internal error, 1006 no answer to the heartbeat's ping.
   */
  dropped(code: number): void;
}

export const silentObserver: RelayObserver = {
  relayed: () => undefined,
  error: () => undefined,
  refused: () => undefined,
  seat: () => undefined,
  handshake: () => undefined,
  internalError: () => undefined,
  throttled: () => undefined,
  dropped: () => undefined,
};

/** Tells several observers the same things. */
export function fanOut(...observers: RelayObserver[]): RelayObserver {
  return {
    // A loop rather than `forEach` with an arrow: this one runs for every frame relayed, and the
    // arrow was an allocation per frame. The others are rare.
    relayed(bytes) {
      for (const o of observers) o.relayed(bytes);
    },
    error: (code) => observers.forEach((o) => o.error(code)),
    refused: (status) => observers.forEach((o) => o.refused(status)),
    seat: (event) => observers.forEach((o) => o.seat(event)),
    handshake: (granted) => observers.forEach((o) => o.handshake(granted)),
    internalError: (name) => observers.forEach((o) => o.internalError(name)),
    throttled: () => observers.forEach((o) => o.throttled()),
    dropped: (code) => observers.forEach((o) => o.dropped(code)),
  };
}
