/**
 * Paces this client's frames to the relay's rate (docs/delivery.md, "Pacing"). The relay gives
 * every connection a token bucket (`rate` in `joined` and `resumed`): `burst` frames at once,
 * then `perSecond`; a frame past it is dropped with `rate-limited`. The pacer keeps a copy of
 * that bucket, starting full with each connection as the relay's does, and allows itself only
 * part of it, so that frames the network bunches up on the way still fit.
 *
 * Pure: the clock is passed in. Frames that cannot wait (control messages, handshake frames)
 * are charged and may put the bucket in debt; frames that can (messages, receipts) ask first.
 */
import type { FrameRate } from '../protocol/control.ts';

/** The relay's defaults (MESSAGE_BURST, MESSAGES_PER_SECOND), until a relay says otherwise. */
export const DEFAULT_FRAME_RATE: FrameRate = { burst: 100, perSecond: 50 };
/** The share of the relay's burst this client uses: the rest absorbs bunching in transit. */
export const BURST_SHARE = 0.5;
/** The share of the relay's rate this client uses. */
export const RATE_SHARE = 0.8;

export class Pacer {
  #capacity = 1;
  #perMs = 1;
  #tokens = 1;
  #at = 0;
  /** No frame that can wait goes before this (the relay said `rate-limited`). */
  #pausedUntil = 0;

  constructor(rate: FrameRate = DEFAULT_FRAME_RATE, now = 0) {
    this.reset(rate, now);
  }

  /** A new connection: the relay's bucket for it is full. */
  reset(rate: FrameRate, now: number): void {
    this.#set(rate);
    this.#tokens = this.#capacity;
    this.#at = now;
    this.#pausedUntil = 0;
  }

  /** The relay told its rate in the middle of a connection: what was sent on it still counts. */
  learn(rate: FrameRate, now: number): void {
    this.#refill(now);
    const before = this.#capacity;
    this.#set(rate);
    this.#tokens = Math.min(this.#capacity, this.#tokens + this.#capacity - before);
  }

  /** A frame that could not wait went out. */
  charge(now: number): void {
    this.#refill(now);
    this.#tokens = Math.max(-this.#capacity, this.#tokens - 1);
  }

  /** How long a frame that can wait must wait (0: it may go now, and should be charged). */
  waitMs(now: number): number {
    this.#refill(now);
    const paused = Math.max(0, this.#pausedUntil - now);
    const short = this.#tokens >= 1 ? 0 : Math.ceil((1 - this.#tokens) / this.#perMs);
    return Math.max(paused, short);
  }

  /** The relay refused a frame: nothing that can wait goes for `ms`, and the bucket is empty. */
  pause(ms: number, now: number): void {
    this.#refill(now);
    this.#tokens = Math.min(this.#tokens, 0);
    this.#pausedUntil = Math.max(this.#pausedUntil, now + ms);
  }

  #set(rate: FrameRate): void {
    this.#capacity = Math.max(1, Math.floor(rate.burst * BURST_SHARE));
    this.#perMs = (rate.perSecond * RATE_SHARE) / 1000;
  }

  #refill(now: number): void {
    const elapsed = Math.max(0, now - this.#at);
    this.#tokens = Math.min(this.#capacity, this.#tokens + elapsed * this.#perMs);
    this.#at = Math.max(this.#at, now);
  }
}
