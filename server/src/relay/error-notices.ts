/**
 * One connection's `error` replies, coalesced: a client that repeats a refused frame (empty
 * frames with no partner, a flood past the rate limit) must not make the relay write an answer
 * for each. The first error of a code goes out at once; identical ones within the next
 * `intervalMs` are only counted, and one `error` with `count` stands for them when the
 * interval ends (docs/protocol.md, "Error codes").
 */
import type { RelayErrorCode } from '@duet/core/protocol/control';

export interface ErrorDetails {
  retryAfterMs?: number;
}

/** Sends one `error`; `count` is set for a summary of errors held back. */
export type EmitError = (code: RelayErrorCode, details: ErrorDetails, count?: number) => void;

export class ErrorNotices {
  /** When each code last went out. */
  readonly #sentAt = new Map<RelayErrorCode, number>();
  /** Codes held back since then: how many, and the latest details. */
  readonly #held = new Map<RelayErrorCode, { count: number; details: () => ErrorDetails }>();
  #timer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly intervalMs: number,
    private readonly now: () => number,
    private readonly emit: EmitError,
  ) {}

  /** An error for this connection; `details` is read when it goes out (a wait computed then). */
  report(code: RelayErrorCode, details: () => ErrorDetails = () => ({})): void {
    const at = this.now();
    const sentAt = this.#sentAt.get(code);
    if (sentAt === undefined || at - sentAt >= this.intervalMs) {
      this.#sentAt.set(code, at);
      this.emit(code, details());
      return;
    }
    const held = this.#held.get(code);
    if (held) {
      held.count += 1;
      held.details = details;
    } else {
      this.#held.set(code, { count: 1, details });
    }
    this.#timer ??= setTimeout(() => this.#flush(), Math.max(0, sentAt + this.intervalMs - at));
  }

  /** The connection is gone: nothing more goes out. */
  close(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#held.clear();
  }

  #flush(): void {
    this.#timer = undefined;
    const at = this.now();
    const held = [...this.#held];
    this.#held.clear();
    for (const [code, { count, details }] of held) {
      this.#sentAt.set(code, at);
      this.emit(code, details(), count);
    }
  }
}
