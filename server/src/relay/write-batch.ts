/**
 * Write batching. Profiling showed ~70 % of the relay's time in one write system call per
 * frame: frames forwarded to a link while one read is handled now leave in one write.
 *
 * The batch ends with the callback that filled it (a microtask, run as soon as the read's
 * callback returns), not with the event loop's turn (`setImmediate`): under load one read holds
 * many frames for the same partner, which still go out together, and at rest a lone frame
 * leaves without waiting for the other sockets' callbacks and timers of the turn.
 *
 * A frame its transport read alone (nothing more of that connection's in the same callback:
 * `LinkEvents.message`) skips the batch and is written at once: at rest that is every frame,
 * and the cork, the promise reaction and the uncork were all the batch added to it.
 */
import type { Link } from './link.ts';

const RESOLVED = Promise.resolve();

export class WriteBatch {
  /** Links corked by the current callback, uncorked together once it returns. */
  #corked = new Set<Link>();

  /** Holds `link`'s writes until the current callback returns (a link that cannot cork writes at once). */
  add(link: Link): void {
    if (!link.cork || this.#corked.has(link)) return;
    link.cork();
    this.#corked.add(link);
    // A promise's reaction rather than queueMicrotask, which makes an async resource per call:
    // at rest this runs for every frame, and what it allocates is collected at every frame's pace.
    if (this.#corked.size === 1) void RESOLVED.then(this.#flush);
  }

  readonly #flush = (): void => {
    // The same set each time, emptied after (a link corked meanwhile waits for the next flush).
    for (const link of this.#corked) link.uncork?.();
    this.#corked.clear();
  };
}
