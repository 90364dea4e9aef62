/**
 * Once the first screen is up and the browser is idle, download what the next click will need
 * (the conversation's code and view, the word list, the suite's crypto), so that Start and Join
 * do not wait for the network, and warm the suite's crypto up. A failure here costs nothing: the
 * click loads it again.
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

/**
 * Someone picked a suite (`des` is warmed only then): download its code while they type, then
 * rehearse its handshake in memory, one step per idle moment, so that the real one runs on
 * compiled code (core's session/modern-rehearsal.ts says what that saves).
 */
export function warmSuite(suite: SuiteId): void {
  loadConversationCode()
    .then(async (code) => {
      await code.preloadSuite(suite);
      await code.rehearseSuite(suite, idle);
    })
    .catch(ignore);
}

/** Resolves at the browser's next idle moment (soon after the next task where it has none). */
function idle(): Promise<void> {
  return new Promise((resolve) => {
    if ('requestIdleCallback' in window)
      window.requestIdleCallback(() => resolve(), { timeout: IDLE_TIMEOUT_MS });
    else setTimeout(resolve, 0);
  });
}
