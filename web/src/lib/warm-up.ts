/**
 * Once the first screen is up and the browser is idle, download what the next click will need
 * (the conversation's code and view, the word list, the suite's crypto), so that Start and Join
 * do not wait for the network, and warm the suite's crypto and the locale's time format up. A
 * failure here costs nothing: the click loads it again.
 *
 * The work waits for idle moments while the reader may be typing. Once they start or join a
 * conversation (`hurryWarmUp`), what is left runs one step per task instead: nobody is typing
 * into the first screen any more, and the partner's handshake may begin at any moment, which a
 * rehearsal step still waiting for an idle moment would then delay.
 */
import type { SuiteId } from '@duet/core/protocol/control';
import { loadChatView, loadConversationCode, loadWords } from './lazy.ts';
import { timeFormat } from './time-format.ts';

/** How long the browser may put the warm-up off when it is busy (requestIdleCallback's timeout). */
const IDLE_TIMEOUT_MS = 2000;

const ignore = (): void => {};

/** Waits still for an idle moment, each able to run at once instead. */
const waiting = new Set<() => void>();
let hurried = false;

/** Runs `step` at the browser's next idle moment, or in the next task once hurried. */
function whenIdle(step: () => void): void {
  // Safari has no requestIdleCallback: the next task is as good.
  if (hurried || !('requestIdleCallback' in window)) {
    setTimeout(step, 0);
    return;
  }
  const handle = window.requestIdleCallback(
    () => {
      waiting.delete(now);
      step();
    },
    { timeout: IDLE_TIMEOUT_MS },
  );
  const now = (): void => {
    waiting.delete(now);
    window.cancelIdleCallback(handle);
    setTimeout(step, 0);
  };
  waiting.add(now);
}

export function warmUp(suite: SuiteId): void {
  // First, before anyone types: the locale's data for the times beside messages, the longest
  // single step of the chat view's first drawing (time-format.ts).
  whenIdle(() => timeFormat());
  whenIdle(() => {
    loadChatView().catch(ignore);
    loadWords().catch(ignore);
    warmSuite(suite);
  });
}

/**
 * Someone picked a suite (`des` is warmed only then): download its code while they type, then
 * rehearse its handshake in memory, one step at a time, so that the real one runs on compiled
 * code (core's session/modern-rehearsal.ts says what that saves).
 */
export function warmSuite(suite: SuiteId): void {
  loadConversationCode()
    .then(async (code) => {
      await code.preloadSuite(suite);
      await code.rehearseSuite(suite, () => new Promise((resolve) => whenIdle(resolve)));
    })
    .catch(ignore);
}

/** The user started or joined a conversation: finish the warm-up without waiting for idle moments. */
export function hurryWarmUp(): void {
  hurried = true;
  for (const now of [...waiting]) now();
}
