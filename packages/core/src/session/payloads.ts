/**
 * The seam between the conversation and a machine that carries binary payloads of its own over
 * the conversation's channel (the file transfer, session/file-transfer.ts). The conversation
 * tells it when the path to the partner comes and goes; it sends through the `PayloadPort`
 * that `Conversation.attachPayloads` returns.
 */
import type { ErrorCode } from '../errors.ts';
import type { Payload } from './channel.ts';

export interface PayloadHandler {
  /** A binary payload from the partner, decrypted and authenticated. */
  receive(bytes: Uint8Array): void;
  /** The path to the partner is complete (again): whatever is unconfirmed should go out again. */
  pathUp(): void;
  /** The path is broken (our link, the partner's, or the session): payloads would be lost. */
  pathDown(): void;
  /** The conversation is over: `left` (the user left) or the fatal error's code. */
  ended(why: 'left' | ErrorCode): void;
}

export interface PayloadPort {
  /** The largest payload the channel seals; 0 if the suite carries none (`des`). */
  readonly maxBytes: number;
  /**
   * Bytes waiting in our socket, or Infinity while the relay's frame rate says wait: a sender of
   * bulk holds back while this is high.
   */
  readonly backlog: number;
  /**
   * Seals and transmits one payload after the channel work already queued (so messages and
   * payloads take turns); resolves true if it went out, false if the path was down.
   */
  send(bytes: Payload): Promise<boolean>;
}
