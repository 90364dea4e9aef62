import type { Page, WebSocketRoute } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import {
  joinRoom,
  messageTexts,
  openPage,
  openThreePages,
  preferRelay,
  sendMessage,
  uniqueRoom,
  useHarness,
  waitForDelivered,
  waitForMessage,
  waitForState,
} from './harness.ts';

const harness = useHarness();

/**
 * Routes the page's relay socket through the test, so that the test can cut it like a dropped
 * Wi-Fi link (close code 4000 to both ends, no `leave`), as often as it likes.
 */
async function cuttable(page: Page): Promise<{ cut(): void }> {
  let current: { client: WebSocketRoute; server: WebSocketRoute } | undefined;
  await page.routeWebSocket(/\/ws$/, (client) => {
    const server = client.connectToServer();
    current = { client, server };
    client.onMessage((message) => server.send(message));
    server.onMessage((message) => client.send(message));
  });
  return {
    cut() {
      void current?.server.close({ code: 4000, reason: 'link dropped' });
      void current?.client.close({ code: 4000, reason: 'link dropped' });
      current = undefined;
    },
  };
}

describe('reconnecting in the browser', () => {
  it('cut links reconnect by themselves; every message arrives once, in order, and is confirmed', async () => {
    const room = uniqueRoom('reconnect');
    const alice = await openPage(harness());
    const bob = await openPage(harness());
    const aliceLink = await cuttable(alice.page);
    const bobLink = await cuttable(bob.page);
    // The relay links are what is cut: no direct path to carry on meanwhile.
    await preferRelay(alice.page);
    await preferRelay(bob.page);
    await alice.page.reload();
    await bob.page.reload();
    await joinRoom(alice.page, { room, passphrase: 'hold the line', suite: 'modern' });
    await joinRoom(bob.page, { room, passphrase: 'hold the line', suite: 'modern' });
    await Promise.all([waitForState(alice.page, 'ready'), waitForState(bob.page, 'ready')]);

    await sendMessage(alice.page, 'a1');
    await waitForMessage(bob.page, 'in', 'a1');

    // Alice's link drops. What she writes meanwhile waits, then goes out once she is back.
    aliceLink.cut();
    await waitForState(alice.page, 'reconnecting');
    await bob.page.locator('[data-testid="partner"][data-state="away"]').waitFor();
    await sendMessage(bob.page, 'b1 while alice is away');
    await waitForState(alice.page, 'ready');
    await sendMessage(alice.page, 'a2');
    await waitForMessage(alice.page, 'in', 'b1 while alice is away');
    await waitForMessage(bob.page, 'in', 'a2');

    // Bob's link drops right after he sends: the message may be lost in flight, and is sent again.
    await sendMessage(bob.page, 'b2 into the storm');
    bobLink.cut();
    await sendMessage(alice.page, 'a3');
    await waitForState(bob.page, 'ready');
    await waitForMessage(alice.page, 'in', 'b2 into the storm');
    await waitForMessage(bob.page, 'in', 'a3');

    // Both at once.
    aliceLink.cut();
    bobLink.cut();
    await Promise.all([waitForState(alice.page, 'ready'), waitForState(bob.page, 'ready')]);
    await sendMessage(alice.page, 'a4');
    await sendMessage(bob.page, 'b3');
    await waitForMessage(bob.page, 'in', 'a4');
    await waitForMessage(alice.page, 'in', 'b3');

    await Promise.all([waitForDelivered(alice.page, 4), waitForDelivered(bob.page, 3)]);
    expect(await messageTexts(bob.page, 'in')).toEqual(['a1', 'a2', 'a3', 'a4']);
    expect(await messageTexts(alice.page, 'in')).toEqual([
      'b1 while alice is away',
      'b2 into the storm',
      'b3',
    ]);
  });

  it.each([
    ['the leave button', 'modern' as const, (page: Page) => page.getByTestId('leave-button').click()],
    ['closing the tab', 'des' as const, (page: Page) => page.close()],
  ])('%s frees the seat at once: a newcomer can take it straight away', async (_how, suite, go) => {
    const room = uniqueRoom('seat');
    const [alice, bob, carol] = await openThreePages(harness());
    await joinRoom(alice.page, { room, passphrase: 'pw', suite });
    await joinRoom(bob.page, { room, passphrase: 'pw', suite });
    await waitForState(bob.page, 'ready');
    await go(bob.page);
    await waitForState(alice.page, 'waiting');
    await joinRoom(carol.page, { room, passphrase: 'pw', suite });
    await Promise.all([waitForState(alice.page, 'ready'), waitForState(carol.page, 'ready')]);
  });
});
