/**
 * The word list (about 6 KB compressed) is loaded only when someone needs it: to generate a
 * passphrase, to count a typed one by words, or to show a safety code.
 */
type Words = typeof import('@duet/core/protocol/words');

let loading: Promise<Words> | undefined;

export function loadWords(): Promise<Words> {
  loading ??= import('@duet/core/protocol/words');
  return loading;
}
