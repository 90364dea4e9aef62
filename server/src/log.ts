/**
 * Structured logs (pino, JSON lines on stdout). What is logged is decided here, from the
 * relay's observer events: counts, codes and lifecycle, never payloads, passphrases, keys,
 * tokens, room codes or addresses.
 */
import { pino, type Logger, type LevelWithSilent } from 'pino';
import type { RelayObserver } from './observer.ts';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

export function createLogger(level: LevelWithSilent, destination?: NodeJS.WritableStream): Logger {
  return pino({ level, base: { service: 'duet-relay' } }, destination ?? process.stdout);
}

/** Relay events as log lines: refusals and errors at debug (a flood must not flood the log). */
export function logObserver(log: Logger): RelayObserver {
  return {
    relayed: () => undefined,
    error: (code) => log.debug({ event: 'client-error', code }, 'refused a client message'),
    refused: (status) => log.debug({ event: 'upgrade-refused', status }, 'refused a WebSocket upgrade'),
    seat: (event) => log.debug({ event: `seat-${event}` }, 'seat'),
    handshake: (granted) => log.debug({ event: 'handshake', granted }, 'handshake attempt'),
    dropped: (code) => log.debug({ event: 'connection-dropped', code }, 'dropped a connection'),
    internalError: (name) =>
      log.error({ event: 'internal-error', name }, 'internal error while handling a connection'),
    throttled: () => log.trace({ event: 'throttled' }, 'paused a connection over its byte rate'),
  };
}
