/**
 * Write batching. Profiling showed ~70 % of the relay's time in one write system call per
 * frame: frames forwarded to a link within one turn of the event loop now leave in one write.
 */
import type { Link } from './link.ts';

export class WriteBatch {
  /** Links corked in this turn, uncorked together once it ends. */
  #corked = new Set<Link>();

  /** Holds `link`'s writes until the end of this turn (a link that cannot cork writes at once). */
  add(link: Link): void {
    if (!link.cork || this.#corked.has(link)) return;
    link.cork();
    this.#corked.add(link);
    if (this.#corked.size === 1) setImmediate(this.#flush);
  }

  readonly #flush = (): void => {
    const links = this.#corked;
    this.#corked = new Set();
    for (const link of links) link.uncork?.();
  };
}
