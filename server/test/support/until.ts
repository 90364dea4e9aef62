/** Waits on a condition, checked every few milliseconds; never a fixed sleep. */
export function until(
  predicate: () => boolean,
  what: string,
  ms = 30_000,
  state: () => string = () => '',
): Promise<void> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const timer = setInterval(() => {
      if (predicate()) {
        clearInterval(timer);
        resolve();
      } else if (Date.now() - started > ms) {
        clearInterval(timer);
        const detail = state();
        reject(new Error(`timed out waiting for ${what}${detail ? ` (${detail})` : ''}`));
      }
    }, 10);
  });
}
