import { describe, expect, it } from 'vitest';
import {
  containsBytes,
  joinRoom,
  leave,
  messageTexts,
  openPage,
  openThreePages,
  sendMessage,
  uniqueRoom,
  useHarness,
  waitForError,
  waitForMessage,
  waitForState,
} from './harness.ts';

const harness = useHarness();

describe('des suite in the browser', () => {
  it('two pages chat both ways, and no frame the relay carries holds plaintext or passphrase', async () => {
    const room = uniqueRoom('des-chat');
    const passphrase = 'correct horse battery staple';
    const alice = await openPage(harness());
    const bob = await openPage(harness());
    await joinRoom(alice.page, { room, passphrase, suite: 'des' });
    await waitForState(alice.page, 'waiting');
    await joinRoom(bob.page, { room, passphrase, suite: 'des' });
    await Promise.all([waitForState(alice.page, 'ready'), waitForState(bob.page, 'ready')]);

    const fromAlice = 'attack at dawn, naïve café 🙂';
    const fromBob = 'the eagle has landed <b>not bold</b>';
    await sendMessage(alice.page, fromAlice);
    await waitForMessage(bob.page, 'in', fromAlice);
    await sendMessage(bob.page, fromBob);
    await waitForMessage(alice.page, 'in', fromBob);
    await waitForMessage(alice.page, 'out', fromAlice);
    // `des` has no receipts: the relay's ack is as far as a message gets, and the page says so.
    await alice.page.locator('[data-testid="message"][data-direction="out"][data-status="sent"]').waitFor();
    await bob.page.locator('[data-testid="message"][data-direction="out"][data-status="sent"]').waitFor();
    expect(await alice.page.getByTestId('des-warning').textContent()).toContain('cannot confirm delivery');

    // Rendered as text, never as HTML.
    expect(await bob.page.locator('[data-testid="message-text"] b').count()).toBe(0);
    expect(await alice.page.getByTestId('message').count()).toBe(2);

    const frames = [...alice.frameLog.frames, ...bob.frameLog.frames];
    const binary = frames.filter((frame): frame is Buffer => typeof frame !== 'string');
    expect(binary).toHaveLength(4); // each message seen sent and received, and nothing else: no receipts
    for (const frame of binary) {
      expect(frame.length % 8).toBe(0); // IV ‖ DES-CBC ciphertext: whole blocks
      expect(frame.length).toBeGreaterThanOrEqual(16);
    }
    for (const frame of frames) {
      for (const secret of [passphrase, 'correct horse', fromAlice, 'attack at dawn', fromBob, 'eagle']) {
        expect(containsBytes(frame, secret), `frame leaks ${secret}`).toBe(false);
      }
    }
    expect([...alice.pageErrors, ...bob.pageErrors]).toEqual([]);
  });

  it('a page with the wrong passphrase shows decrypt-failed, stays connected, and the other page keeps working', async () => {
    const room = uniqueRoom('des-wrong');
    const alice = await openPage(harness());
    const mallory = await openPage(harness());
    await joinRoom(alice.page, { room, passphrase: 'right passphrase', suite: 'des' });
    await joinRoom(mallory.page, { room, passphrase: 'wrong passphrase', suite: 'des' });
    await Promise.all([waitForState(alice.page, 'ready'), waitForState(mallory.page, 'ready')]);

    await sendMessage(alice.page, 'can you read this?');
    await waitForError(mallory.page, 'decrypt-failed');
    expect(await mallory.page.getByTestId('error').textContent()).toContain('another passphrase');
    await waitForState(mallory.page, 'ready');
    expect(await messageTexts(mallory.page, 'in')).toEqual([]);

    // The wrong page leaves; a partner with the right passphrase takes the seat and Alice chats on.
    await mallory.page.getByTestId('leave-button').click();
    await waitForState(alice.page, 'waiting');
    // The share link carries the suite: the joiner only types the passphrase.
    const link = (await alice.page.getByTestId('share-link').textContent()) ?? '';
    expect(new URL(link).hash).toBe(`#${room}&suite=des`);
    const bob = await openPage(harness(), new URL(link).hash);
    expect(await bob.page.locator('main').textContent()).toContain(room);
    await bob.page.getByTestId('passphrase-input').fill('right passphrase');
    await bob.page.getByTestId('join-button').click();
    await waitForState(alice.page, 'ready');
    await sendMessage(alice.page, 'still here');
    await waitForMessage(bob.page, 'in', 'still here');
  });

  it('a third page gets room-full and the pair keeps chatting', async () => {
    const room = uniqueRoom('des-full');
    const [alice, bob, carol] = await openThreePages(harness());
    await joinRoom(alice.page, { room, passphrase: 'pw', suite: 'des' });
    await waitForState(alice.page, 'waiting');
    await joinRoom(bob.page, { room, passphrase: 'pw', suite: 'des' });
    await waitForState(bob.page, 'ready');
    await joinRoom(carol.page, { room, passphrase: 'pw', suite: 'des' });
    await waitForError(carol.page, 'room-full');
    await waitForState(carol.page, 'failed');
    await sendMessage(bob.page, 'just us');
    await waitForMessage(alice.page, 'in', 'just us');
  });

  it('a typed hex salt must match on both sides: the seed salt works, another salt fails', async () => {
    const room = uniqueRoom('des-salt');
    const alice = await openPage(harness());
    const bob = await openPage(harness());
    await joinRoom(alice.page, {
      room,
      passphrase: 'pass',
      suite: 'des',
      salt: '123456789abcdefa1122334455667788',
    });
    await joinRoom(bob.page, {
      room,
      passphrase: 'pass',
      suite: 'des',
      salt: '123456789abcdefa1122334455667788',
    });
    await Promise.all([waitForState(alice.page, 'ready'), waitForState(bob.page, 'ready')]);
    await sendMessage(alice.page, 'seed salt');
    await waitForMessage(bob.page, 'in', 'seed salt');

    // Same passphrase, another salt: another key. Bob has a message, so leaving asks first.
    await leave(bob.page);
    await waitForState(alice.page, 'waiting');
    const carol = await openPage(harness());
    await joinRoom(carol.page, {
      room,
      passphrase: 'pass',
      suite: 'des',
      salt: '00112233445566778899aabbccddeeff',
    });
    await waitForState(alice.page, 'ready');
    await sendMessage(alice.page, 'other salt');
    await waitForError(carol.page, 'decrypt-failed');
  });
});
