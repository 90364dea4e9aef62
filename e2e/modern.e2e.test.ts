import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import {
  containsBytes,
  joinRoom,
  messageTexts,
  openPage,
  preferRelay,
  sendMessage,
  uniqueRoom,
  useHarness,
  waitForError,
  waitForMessage,
  waitForState,
} from './harness.ts';

const harness = useHarness();

/** Joins with the suite left at its default, as a new user would. */
async function joinWithDefaults(page: Page, room: string, passphrase: string): Promise<void> {
  const codeButton = page.getByTestId('join-with-code-button');
  if (await codeButton.isVisible()) await codeButton.click();
  await page.getByTestId('room-input').fill(room);
  await page.getByTestId('passphrase-input').fill(passphrase);
  await page.getByTestId('join-button').click();
}

describe('modern suite in the browser', () => {
  it('is the default: two pages chat both ways with nothing readable on the wire', async () => {
    const room = uniqueRoom('modern-chat');
    const passphrase = 'purple monkey dishwasher';
    const alice = await openPage(harness());
    const bob = await openPage(harness());
    await alice.page.getByTestId('join-with-code-button').click();
    expect(await alice.page.getByTestId('suite-select').inputValue()).toBe('modern');
    await joinWithDefaults(alice.page, room, passphrase);
    await waitForState(alice.page, 'waiting');
    await joinWithDefaults(bob.page, room, passphrase);
    await Promise.all([waitForState(alice.page, 'ready'), waitForState(bob.page, 'ready')]);
    expect(await alice.page.getByTestId('status').textContent()).toContain('modern');

    await sendMessage(alice.page, 'meet me at the old mill');
    await waitForMessage(bob.page, 'in', 'meet me at the old mill');
    await sendMessage(bob.page, 'bring the blueprints');
    await waitForMessage(alice.page, 'in', 'bring the blueprints');

    for (const frame of [...alice.frameLog.frames, ...bob.frameLog.frames]) {
      for (const secret of [passphrase, 'purple monkey', 'old mill', 'blueprints']) {
        expect(containsBytes(frame, secret), `frame leaks ${secret}`).toBe(false);
      }
    }
    expect([...alice.pageErrors, ...bob.pageErrors]).toEqual([]);
  });

  it('a wrong passphrase gives passphrase-mismatch on both pages, and both can retry without reloading', async () => {
    const room = uniqueRoom('modern-wrong');
    const alice = await openPage(harness());
    const bob = await openPage(harness());
    await joinRoom(alice.page, { room, passphrase: 'alpha bravo', suite: 'modern' });
    await joinRoom(bob.page, { room, passphrase: 'alpha charlie', suite: 'modern' });
    await Promise.all([
      waitForError(alice.page, 'passphrase-mismatch'),
      waitForError(bob.page, 'passphrase-mismatch'),
    ]);
    await Promise.all([waitForState(alice.page, 'failed'), waitForState(bob.page, 'failed')]);
    expect(await alice.page.getByTestId('composer').isDisabled()).toBe(true);

    await bob.page.getByTestId('retry-passphrase-input').fill('alpha bravo');
    await bob.page.getByTestId('retry-button').click();
    await alice.page.getByTestId('retry-passphrase-input').fill('alpha bravo');
    await alice.page.getByTestId('retry-button').click();
    await Promise.all([waitForState(alice.page, 'ready'), waitForState(bob.page, 'ready')]);
    await sendMessage(bob.page, 'third time lucky');
    await waitForMessage(alice.page, 'in', 'third time lucky');
  });

  it('a frame altered in flight is rejected as tampered and the chat goes on', async () => {
    const room = uniqueRoom('modern-tamper');
    const alice = await openPage(harness());
    const bob = await openPage(harness());
    // Bob's socket goes through a route that can flip one bit of the next binary frame he receives.
    let tamperNext = false;
    await bob.page.routeWebSocket(/\/ws$/, (client) => {
      const server = client.connectToServer();
      client.onMessage((message) => server.send(message));
      server.onMessage((message) => {
        if (tamperNext && typeof message !== 'string') {
          tamperNext = false;
          const altered = Buffer.from(message);
          altered[altered.length - 1]! ^= 0x01;
          client.send(altered);
        } else {
          client.send(message);
        }
      });
    });
    // The relay's frames are what is tampered with: no direct path.
    await preferRelay(bob.page);
    await bob.page.reload();
    await joinRoom(alice.page, { room, passphrase: 'pw tamper', suite: 'modern' });
    await joinRoom(bob.page, { room, passphrase: 'pw tamper', suite: 'modern' });
    await Promise.all([waitForState(alice.page, 'ready'), waitForState(bob.page, 'ready')]);

    tamperNext = true;
    await sendMessage(alice.page, 'wire the money to account 1');
    await waitForError(bob.page, 'tampered');
    expect(await messageTexts(bob.page, 'in')).toEqual([]);
    await sendMessage(alice.page, 'never mind, all good');
    await waitForMessage(bob.page, 'in', 'never mind, all good');
    await waitForState(bob.page, 'ready');
  });

  it('a frame replayed in flight is refused as replayed, and its message shows once', async () => {
    const room = uniqueRoom('modern-replay');
    const alice = await openPage(harness());
    const bob = await openPage(harness());
    // Bob's socket goes through a route that delivers the next binary frame he receives twice.
    let replayNext = false;
    await bob.page.routeWebSocket(/\/ws$/, (client) => {
      const server = client.connectToServer();
      client.onMessage((message) => server.send(message));
      server.onMessage((message) => {
        client.send(message);
        if (replayNext && typeof message !== 'string') {
          replayNext = false;
          client.send(message);
        }
      });
    });
    // The relay's frames are what is replayed: no direct path.
    await preferRelay(bob.page);
    await bob.page.reload();
    await joinRoom(alice.page, { room, passphrase: 'pw replay', suite: 'modern' });
    await joinRoom(bob.page, { room, passphrase: 'pw replay', suite: 'modern' });
    await Promise.all([waitForState(alice.page, 'ready'), waitForState(bob.page, 'ready')]);

    replayNext = true;
    await sendMessage(alice.page, 'say it once');
    await waitForError(bob.page, 'replayed');
    await sendMessage(alice.page, 'and once more');
    await waitForMessage(bob.page, 'in', 'and once more');
    expect(await messageTexts(bob.page, 'in')).toEqual(['say it once', 'and once more']);
  });

  it('a page of another version in the room: both pages get suite-mismatch and are told to reload', async () => {
    const room = uniqueRoom('modern-version');
    const current = await openPage(harness());
    const outdated = await openPage(harness());
    // The outdated page joins as pages from before versions did: no `version` in its join.
    await outdated.page.routeWebSocket(/\/ws$/, (client) => {
      const server = client.connectToServer();
      client.onMessage((message) => {
        if (typeof message !== 'string') return server.send(message);
        const control = JSON.parse(message) as { type: string; version?: number };
        if (control.type === 'join') delete control.version;
        server.send(JSON.stringify(control));
      });
      server.onMessage((message) => client.send(message));
    });
    await outdated.page.reload();
    await joinRoom(current.page, { room, passphrase: 'pw version', suite: 'modern' });
    await waitForState(current.page, 'waiting');
    await joinRoom(outdated.page, { room, passphrase: 'pw version', suite: 'modern' });
    await Promise.all([
      waitForError(outdated.page, 'suite-mismatch'),
      waitForError(current.page, 'suite-mismatch'),
    ]);
    for (const page of [current.page, outdated.page]) {
      expect(await page.getByTestId('error').textContent()).toContain('reload the page');
    }
    await waitForState(outdated.page, 'failed');
    await waitForState(current.page, 'waiting'); // the page in the room keeps its seat
    expect([...current.pageErrors, ...outdated.pageErrors]).toEqual([]);
  });

  it('a joiner with the other suite gets suite-mismatch', async () => {
    const room = uniqueRoom('modern-suite');
    const alice = await openPage(harness());
    const bob = await openPage(harness());
    await joinRoom(alice.page, { room, passphrase: 'pw', suite: 'modern' });
    await waitForState(alice.page, 'waiting');
    await joinRoom(bob.page, { room, passphrase: 'pw', suite: 'des' });
    await waitForError(bob.page, 'suite-mismatch');
    await waitForState(alice.page, 'waiting');
  });
});
