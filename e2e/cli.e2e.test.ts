/**
 * A terminal user and a browser user in one room: `duet join` (a real process) with the link
 * the page shows, and Chromium on the other side.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { DuetProcess } from '../packages/cli/test/support/duet-process.ts';
import {
  joinRoom,
  openPage,
  sendMessage,
  uniqueRoom,
  useHarness,
  waitForMessage,
  waitForState,
} from './harness.ts';

const harness = useHarness();
const processes: DuetProcess[] = [];
afterEach(() => {
  for (const process of processes.splice(0)) process.kill();
});

describe('the terminal client with a browser', () => {
  it('duet join with the page’s share link: both chat, both see delivered (modern)', async () => {
    const room = uniqueRoom('cli-browser');
    const alice = await openPage(harness());
    await joinRoom(alice.page, { room, passphrase: 'tea at five', suite: 'modern' });
    await waitForState(alice.page, 'waiting');
    const link = (await alice.page.getByTestId('share-link').textContent())?.trim() ?? '';
    expect(link).toContain(`#${room}`);

    const bob = DuetProcess.start(['join', link], { DUET_PASSPHRASE: 'tea at five' });
    processes.push(bob);
    await bob.waitForLine(/secure channel ready/);
    await waitForState(alice.page, 'ready');

    await sendMessage(alice.page, 'from the browser, naïve café 🙂');
    await bob.waitForLine(/^< from the browser, naïve café 🙂$/);
    bob.write('from the terminal <b>not bold</b>');
    await waitForMessage(alice.page, 'in', 'from the terminal <b>not bold</b>');
    await bob.waitForLine(/^\* #1 delivered$/);
    await alice.page
      .locator('[data-testid="message"][data-direction="out"][data-status="delivered"]')
      .waitFor();

    bob.write('/quit');
    expect(await bob.exited).toBe(0);
    await waitForState(alice.page, 'waiting');
  });

  it('des: a browser and duet join chat with the text as the whole plaintext', async () => {
    const room = uniqueRoom('cli-des');
    const alice = await openPage(harness());
    await joinRoom(alice.page, {
      room,
      passphrase: 'pass',
      suite: 'des',
      salt: '123456789abcdefa1122334455667788',
    });
    const bob = DuetProcess.start(
      ['join', `${harness().url}/#${room}&suite=des&salt=123456789abcdefa1122334455667788`],
      { DUET_PASSPHRASE: 'pass' },
    );
    processes.push(bob);
    await bob.waitForLine(/ready \(des/);
    await waitForState(alice.page, 'ready');
    bob.write('hello from the terminal');
    await waitForMessage(alice.page, 'in', 'hello from the terminal');
    await bob.waitForLine(/^\* #1 sent$/);
    await sendMessage(alice.page, 'and back');
    await bob.waitForLine(/^< and back$/);
    bob.end();
    expect(await bob.exited).toBe(0);
  });
});
