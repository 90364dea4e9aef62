/** One connection's work, one task at a time, in the order its frames arrived. */
export class WorkQueue {
  #tail: Promise<void> = Promise.resolve();
  /** Tasks still waiting or running (0: the next can run at once). */
  #pending = 0;

  /**
   * Runs `task` after the earlier ones; `onError` gets its failure. With nothing pending the
   * task runs at once: a binary frame to a local partner is then forwarded in the same turn,
   * without a promise per frame (the relay's hot path).
   */
  run(task: () => Promise<void> | void, onError: (error: unknown) => void): void {
    this.#pending += 1;
    if (this.#pending === 1) {
      let result: Promise<void> | void;
      try {
        result = task();
      } catch (error) {
        this.#pending -= 1;
        return onError(error);
      }
      if (!(result instanceof Promise)) {
        this.#pending -= 1;
        return;
      }
      this.#tail = result.catch(onError).finally(() => (this.#pending -= 1));
      return;
    }
    // Arrows passed straight on, not a named closure: under tsx a named one also gets its name
    // defined, once per message here (relay/ws-link.ts says what that costs).
    this.#tail = this.#tail
      .then(task)
      .catch(onError)
      .finally(() => (this.#pending -= 1));
  }

  /** Runs `task` once everything queued so far is done, never at once (the connection's last word). */
  finally(task: () => Promise<void> | void, onError: (error: unknown) => void): void {
    this.#tail = this.#tail.then(task).catch(onError);
  }

  /** Whether a task is waiting or running: if not, the next one would run at once. */
  get busy(): boolean {
    return this.#pending > 0;
  }

  /** Settles once everything queued so far is done. */
  get idle(): Promise<void> {
    return this.#tail;
  }
}
