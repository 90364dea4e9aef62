/**
 * What the first screen does not need is loaded on demand: the conversation's code and view on
 * the first join (or ahead of it, warm-up.ts), the word list when a passphrase is generated or
 * weighed. Each loader downloads its chunk once; after a failed download the next call tries
 * again instead of keeping the failure.
 */
export function lazy<T>(load: () => Promise<T>): () => Promise<T> {
  let loading: Promise<T> | undefined;
  return () => {
    loading ??= load().catch((error: unknown) => {
      loading = undefined;
      throw error;
    });
    return loading;
  };
}

/** Core's session machines, the relay protocol and the browser transport (conversation-parts.ts). */
export const loadConversationCode = lazy(() => import('./conversation-parts.ts'));

/** The conversation's view: ChatView and everything it shows. */
export const loadChatView = lazy(() => import('./components/ChatView.svelte'));

/** The BIP-39 word list and what uses it (about 7 KB compressed). */
export const loadWords = lazy(() => import('@duet/core/protocol/words'));
