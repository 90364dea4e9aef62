/**
 * Once the first screen is up and the browser is idle, download what the next click will need
 * (the conversation's code and view, the word list, the suite's crypto), so that Start and Join
 * do not wait for the network. A failure here costs nothing: the click loads it again.
 */
import type { SuiteId } from '@duet/core/protocol/control';
import { loadChatView, loadConversationCode, loadWords } from './lazy.ts';

/** How long the browser may put the warm-up off when it is busy (requestIdleCallback's timeout). */
const IDLE_TIMEOUT_MS = 2000;

const ignore = (): void => {};

export function warmUp(suite: SuiteId): void {
  const run = (): void => {
    loadChatView().catch(ignore);
    loadWords().catch(ignore);
    warmSuite(suite);
  };
  // Safari has no requestIdleCallback: after the load event is as good.
  if ('requestIdleCallback' in window) window.requestIdleCallback(run, { timeout: IDLE_TIMEOUT_MS });
  else setTimeout(run, 0);
}

/** Someone picked a suite (`des` is warmed only then): download its code while they type. */
export function warmSuite(suite: SuiteId): void {
  loadConversationCode()
    .then((code) => code.preloadSuite(suite))
    .catch(ignore);
}
