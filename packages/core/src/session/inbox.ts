/**
 * Incoming messages shown exactly once and in order, whatever the network and the sender's
 * retransmissions do. Ids count from 1 per sender instance; a new instance (the partner
 * reloaded) starts a new sequence.
 */
import { duetError } from '../errors.ts';

/** Out-of-order messages kept while waiting for a gap to fill; more are dropped (and resent later). */
export const MAX_HELD = 1000;

export interface InboxOptions {
  /** How many out-of-order messages to hold (default MAX_HELD); tests make it small. */
  maxHeld?: number;
}

export interface InboxResult {
  /** Texts to show now, in order. */
  show: string[];
  /** The receipt to send: everything of `instance` up to `upTo` has been shown. */
  receipt: { instance: string; upTo: number };
}

export class Inbox {
  readonly #maxHeld: number;
  #instance: string | undefined;
  #shown = 0;
  #held = new Map<number, string>();

  constructor(options: InboxOptions = {}) {
    const maxHeld = options.maxHeld ?? MAX_HELD;
    if (!Number.isSafeInteger(maxHeld) || maxHeld < 0)
      throw duetError('bad-input', 'maxHeld must be an integer ≥ 0');
    this.#maxHeld = maxHeld;
  }

  accept(instance: string, id: number, text: string): InboxResult {
    if (instance !== this.#instance) {
      this.#instance = instance;
      this.#shown = 0;
      this.#held = new Map();
    }
    const show: string[] = [];
    if (id === this.#shown + 1) {
      // The next expected id is always taken, however full the hold is: it is what unblocks it.
      this.#shown = id;
      show.push(text);
      for (
        let next = this.#held.get(this.#shown + 1);
        next !== undefined;
        next = this.#held.get(this.#shown + 1)
      ) {
        this.#shown += 1;
        this.#held.delete(this.#shown);
        show.push(next);
      }
    } else if (id > this.#shown && !this.#held.has(id) && this.#held.size < this.#maxHeld) {
      this.#held.set(id, text);
    }
    return { show, receipt: { instance, upTo: this.#shown } };
  }
}
