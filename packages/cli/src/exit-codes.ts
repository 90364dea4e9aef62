/**
 * The terminal client's exit codes. Scripts depend on them: keep them stable, and keep the
 * table in README.md ("A terminal client") in step.
 */
import type { ErrorCode } from '@duet/core/errors';

export const EXIT = {
  /** Done: the chat ended as asked, or every message was delivered (`modern`) or sent (`des`). */
  ok: 0,
  /** An error not listed below (`handshake-failed`, `server-busy`, …); the message says which. */
  error: 1,
  /** Bad usage: unknown command or option, malformed share link, no passphrase, nothing to send. */
  usage: 2,
  /** The passphrase does not match the partner's (`modern` only: `des` cannot tell). */
  wrongPassphrase: 3,
  /** The room already has two people. */
  roomFull: 4,
  /** The room uses the other suite. */
  suiteMismatch: 5,
  /** `send`: not done within `--timeout` (the partner never came, or never confirmed). */
  timeout: 6,
  /** The relay could not be reached, or the connection was lost for good. */
  unreachable: 7,
  /** Interrupted (Ctrl-C). */
  interrupted: 130,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** The exit code for a fatal problem of the conversation. */
export function exitCodeFor(code: ErrorCode): ExitCode {
  switch (code) {
    case 'passphrase-mismatch':
      return EXIT.wrongPassphrase;
    case 'room-full':
      return EXIT.roomFull;
    case 'suite-mismatch':
      return EXIT.suiteMismatch;
    case 'connection-lost':
      return EXIT.unreachable;
    default:
      return EXIT.error;
  }
}

/** A failure that ends the command with `exitCode` after printing `message`. */
export class CliError extends Error {
  override readonly name = 'CliError';

  constructor(
    readonly exitCode: ExitCode,
    message: string,
  ) {
    super(message);
  }
}
