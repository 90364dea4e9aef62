/**
 * What the app needs from a suite: a secure channel between the two seats of a room.
 *
 * A channel is a state machine. The app feeds it what happens (the partner arrived, a binary
 * frame came in, the user wants to send) and carries out the effects it returns (transmit these
 * bytes, show this message, show this warning). A channel never touches a socket or the DOM.
 * Methods are async only because WebCrypto is; the caller must not interleave calls (the app
 * runs them one at a time through a queue).
 */
import type { SafetyCode } from '../crypto/safety-code.ts';
import type { ErrorCode } from '../errors.ts';
import type { Role, SuiteId } from '../protocol/control.ts';

export type ChannelEffect =
  /** Send these bytes to the partner as one binary frame. */
  | { type: 'transmit'; frame: Uint8Array }
  /** Ask the relay for a handshake attempt (send the `handshake` control message). */
  | { type: 'request-handshake' }
  /**
   * The channel can now carry messages (keys derived, and for `modern` confirmed). `modern` adds
   * the session's safety code (crypto/safety-code.ts), for the two people to compare.
   */
  | { type: 'ready'; safetyCode?: SafetyCode }
  /** While this side is failed: the partner asked for a new attempt (it is trying again). */
  | { type: 'partner-retried' }
  /** A message from the partner, decrypted and checked. */
  | { type: 'message'; text: string }
  /** A binary payload from the partner (a file transfer envelope), decrypted and checked. */
  | { type: 'data'; bytes: Uint8Array }
  /** A frame was refused; the channel goes on (for example `decrypt-failed`, `tampered`, `replayed`). */
  | { type: 'warning'; code: ErrorCode }
  /** The channel cannot go on with this passphrase (for example `passphrase-mismatch`). */
  | { type: 'failed'; code: ErrorCode };

/**
 * A binary payload: bytes, or bytes in parts that are sent as their concatenation. Parts spare
 * a copy of each file chunk (an envelope header and the chunk's bytes go into the padded
 * plaintext directly): on a 64 MiB transfer, each large short-lived copy costs the sender its
 * share of full garbage collections (docs/benchmarks.md).
 */
export type Payload = Uint8Array | readonly Uint8Array[];

export interface SecureChannel {
  readonly suite: SuiteId;
  /** The largest binary payload `send` seals; 0 if the suite carries texts only (`des`). */
  readonly maxDataBytes: number;
  /** The partner is present; `role` comes from the relay. */
  start(role: Role): Promise<ChannelEffect[]>;
  /** The relay granted handshake attempt `attempt` with its `nonce` (`modern`; `des` ignores it). */
  grant(attempt: number, nonce: Uint8Array): Promise<ChannelEffect[]>;
  /** A new passphrase after a failure: forget the old one and try again (may request a handshake). */
  retry(passphrase: string): Promise<ChannelEffect[]>;
  /** One binary frame from the partner. Never throws for bad input: bad frames become effects. */
  receive(frame: Uint8Array): Promise<ChannelEffect[]>;
  /**
   * Encrypts one message (a text) or one binary payload (at most `maxDataBytes`); the partner's
   * channel gives it back as a `message` or a `data` effect. Throws a DuetError if the channel
   * is not ready, or the payload is too large or not allowed.
   */
  send(payload: string | Payload): Promise<ChannelEffect[]>;
  /** The partner left: forget every per-session secret; `start` begins again. */
  reset(): void;
}
