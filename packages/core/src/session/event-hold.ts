/**
 * Keeps a conversation's events back for a moment, then gives them out in order.
 *
 * Why: when the partner arrives, the relay grants the handshake to both seats and the handshake
 * takes a few round trips. A page that redrew itself for the partner's arrival (the invitation
 * gone, "Setting up the secure channel…") did that work on its main thread while the grant and
 * the partner's frames waited behind it: about a fifth of the time to a secure channel, and
 * more on a slow phone (docs/benchmarks.md). Held, the screen changes once, to the secure
 * state, instead of three times in a tenth of a second; the handshake's frames go out first.
 *
 * The hold never hides for long what a person should see: anything but progress ends it at once
 * (the caller's `releasesOn`: a problem, a status other than the handshake's own), and so does
 * `maxMs`, so that on a slow link the partner's arrival shows while the handshake goes on.
 */
import type { Timers } from './conversation.ts';

export class EventHold<E> {
  readonly #deliver: (event: E) => void;
  readonly #releasesOn: (event: E) => boolean;
  readonly #timers: Timers;
  readonly #maxMs: number;
  #held: E[] | undefined;
  #releasing = false;
  #timer: unknown;

  constructor(options: {
    deliver: (event: E) => void;
    /** An event that must be seen now: it and everything held before it go out at once. */
    releasesOn: (event: E) => boolean;
    timers: Timers;
    /** The longest any event is held. */
    maxMs: number;
  }) {
    this.#deliver = options.deliver;
    this.#releasesOn = options.releasesOn;
    this.#timers = options.timers;
    this.#maxMs = options.maxMs;
  }

  get holding(): boolean {
    return this.#held !== undefined;
  }

  /** Holds events from now on, for `maxMs` at most (a hold already on keeps its deadline). */
  hold(): void {
    if (this.#held) return;
    this.#held = [];
    this.#timer = this.#timers.set(() => {
      this.#timer = undefined;
      this.release();
    }, this.#maxMs);
  }

  emit(event: E): void {
    const held = this.#held;
    if (!held) return this.#deliver(event);
    held.push(event);
    if (this.#releasesOn(event)) this.release();
  }

  /** Gives out everything held, in order, and holds no more. */
  release(): void {
    const held = this.#held;
    if (!held || this.#releasing) return;
    this.#releasing = true;
    this.#timers.clear(this.#timer);
    this.#timer = undefined;
    try {
      // An event emitted while these go out (a handler that calls back) queues behind them.
      for (let i = 0; i < held.length; i++) this.#deliver(held[i] as E);
    } finally {
      this.#held = undefined;
      this.#releasing = false;
    }
  }
}
