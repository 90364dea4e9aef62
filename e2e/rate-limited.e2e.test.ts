/**
 * Issue 10, item 1: when the relay refuses a handshake with `rate-limited`, the page says so
 * with a countdown and tries again by itself. The relay's clock is the test's, so the room's
 * budget comes back exactly when the test says.
 */
import { expect, it } from 'vitest';
import { joinRoom, leave, openPage, uniqueRoom, useHarness, waitForError, waitForState } from './harness.ts';

const REFILL_MS = 3_000;
let clock = 1_000_000;
// One attempt per room, one more every 3 s of the relay's (frozen) clock.
const harness = useHarness({ now: () => clock, handshakeBurst: 1, handshakeRefillMs: REFILL_MS });

it('a rate-limited handshake shows a countdown on a phone-sized page, then sets up the channel by itself', async () => {
  const room = uniqueRoom('rate-limited');
  const passphrase = 'quiet harbour lantern';
  const alice = await openPage(harness());
  const bob = await openPage(harness());
  await alice.page.setViewportSize({ width: 390, height: 844 });
  await joinRoom(alice.page, { room, passphrase, suite: 'modern' });
  await waitForState(alice.page, 'waiting');
  await joinRoom(bob.page, { room, passphrase, suite: 'modern' });
  await Promise.all([waitForState(alice.page, 'ready'), waitForState(bob.page, 'ready')]);

  // Bob leaves and comes back: a new session needs a new attempt, and the room has none left.
  await leave(bob.page);
  await joinRoom(bob.page, { room, passphrase, suite: 'modern' });
  await waitForError(alice.page, 'rate-limited');
  const countdown = alice.page.getByTestId('retry-countdown');
  await expect.poll(() => countdown.textContent()).toMatch(/tries again by itself in [1-3] s/);
  await waitForState(alice.page, 'handshaking');

  clock += REFILL_MS; // the attempt is back; the page asks again when its countdown ends
  await Promise.all([waitForState(alice.page, 'ready'), waitForState(bob.page, 'ready')]);
  await expect.poll(() => alice.page.getByTestId('error').count()).toBe(0);
  expect([...alice.pageErrors, ...bob.pageErrors]).toEqual([]);
});
