/**
 * The time beside a message or a file ("14:05"), in the reader's locale, from one formatter for
 * the whole page.
 *
 * Building a page's first `Intl.DateTimeFormat` loads its locale's data: 44 ms in this project's
 * Chromium, 187 ms at 4× CPU slowdown. The chat view used to build its own as it mounted, which
 * is between a joiner's click on Join and the `join` it sends, so every joiner waited for it.
 * The warm-up builds it now, at the first idle moment after the first screen (warm-up.ts).
 */
let formatter: Intl.DateTimeFormat | undefined;

export function timeFormat(): Intl.DateTimeFormat {
  formatter ??= new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit' });
  return formatter;
}

/** `at` (ms since the epoch) as hours and minutes. */
export function formatTime(at: number): string {
  return timeFormat().format(at);
}
