/**
 * Incoming messages shown exactly once and in order, whatever the network and the sender's
 * retransmissions do. Ids count from 1 per sender instance; a new instance (the partner
 * reloaded) starts a new sequence.
 */

/** Out-of-order messages kept while waiting for a gap to fill; more are dropped (and resent later). */
export const MAX_HELD = 1000;

export interface InboxResult {
  /** Texts to show now, in order. */
  show: string[];
  /** The receipt to send: everything of `instance` up to `upTo` has been shown. */
  receipt: { instance: string; upTo: number };
}

export class Inbox {
  #instance: string | undefined;
  #shown = 0;
  #held = new Map<number, string>();

  accept(instance: string, id: number, text: string): InboxResult {
    if (instance !== this.#instance) {
      this.#instance = instance;
      this.#shown = 0;
      this.#held = new Map();
    }
    const show: string[] = [];
    if (id > this.#shown && !this.#held.has(id) && this.#held.size < MAX_HELD) this.#held.set(id, text);
    for (
      let next = this.#held.get(this.#shown + 1);
      next !== undefined;
      next = this.#held.get(this.#shown + 1)
    ) {
      this.#held.delete(this.#shown + 1);
      this.#shown += 1;
      show.push(next);
    }
    return { show, receipt: { instance, upTo: this.#shown } };
  }
}
