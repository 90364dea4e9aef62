/**
 * One error type for the whole of Duet, with a stable machine-readable `code`.
 *
 * Codes are part of the contract: tests assert them, the UI maps them to sentences
 * (web/src/lib/explain.ts), and docs/protocol.md lists the ones that cross the wire.
 */

/** Codes the relay sends in `error` messages (docs/protocol.md lists when). */
export const RELAY_ERROR_CODES = [
  'bad-json',
  'bad-message',
  'unknown-type',
  'bad-room',
  'bad-suite',
  'not-joined',
  'already-joined',
  'room-full',
  'suite-mismatch',
  'no-partner',
  'too-large',
  'rate-limited',
  'server-busy',
  'resume-failed',
] as const;
export type RelayErrorCode = (typeof RELAY_ERROR_CODES)[number];

/** Every code: the relay's, and those raised inside the libraries and the app. */
export const ERROR_CODES = [
  ...RELAY_ERROR_CODES,
  // The `des` suite: distinct inside the library, one `decrypt-failed` outside it.
  'des-too-short',
  'des-not-block-aligned',
  'des-bad-padding',
  'des-not-utf8',
  'decrypt-failed',
  // The `modern` suite.
  'passphrase-mismatch',
  'tampered',
  'replayed',
  'bad-frame',
  'bad-point',
  'handshake-failed',
  // Input checks at library boundaries.
  'bad-input',
  // Transport.
  'connection-lost',
  // File transfer (session/file-transfer.ts).
  'files-unsupported',
  'transfer-lost',
  'transfer-failed',
  'file-read-failed',
  'file-write-failed',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

/** An error with a stable `code`; `message` is for developers, never shown verbatim to users. */
export class DuetError extends Error {
  override readonly name = 'DuetError';
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(`${code}: ${message}`, options);
    this.code = code;
  }
}

/** The single factory every module uses, so that every error carries a code. */
export function duetError(code: ErrorCode, message: string, cause?: unknown): DuetError {
  return new DuetError(code, message, cause === undefined ? undefined : { cause });
}

export function isDuetError(value: unknown, code?: ErrorCode): value is DuetError {
  return value instanceof DuetError && (code === undefined || value.code === code);
}
