/** The relay's `error` replies: a stable code and a short, fixed sentence. */
import { RELAY_ERROR_CODES, type RelayErrorCode, type ServerMessage } from '@duet/core/protocol/control';

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
  'no-partner': 'your partner is not connected',
  'too-large': 'control frame too large',
  'rate-limited': 'too many frames or attempts; slow down',
  'server-busy': 'the relay is at capacity; try again later',
  'resume-failed': 'that seat cannot be taken back; join the room again',
};

export function errorReply(
  code: RelayErrorCode,
  extra: { retryAfterMs?: number; count?: number } = {},
): ServerMessage {
  return { type: 'error', code, message: ERROR_TEXT[code], ...extra };
}

export function isRelayErrorCode(value: string): value is RelayErrorCode {
  return (RELAY_ERROR_CODES as readonly string[]).includes(value);
}
