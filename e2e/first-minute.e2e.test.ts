/**
 * The first minute, as people meet it in the browser: Start and share, the link, the joiner's
 * view, safety codes, honest states after a mismatch, suite mismatches, strength estimates.
 */
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import {
  joinByLink,
  joinRoom,
  leave,
  openPage,
  sendMessage,
  startConversation,
  uniqueRoom,
  useHarness,
  waitForError,
  waitForMessage,
  waitForState,
} from './harness.ts';

const harness = useHarness();

const focusedTestId = (page: Page) =>
  page.evaluate(() => document.activeElement?.getAttribute('data-testid'));
const clipboard = (page: Page) => page.evaluate(() => navigator.clipboard.readText());

describe('start and share', () => {
  it('Start makes a room and a five-word passphrase; the link holds the room and never the passphrase', async () => {
    const alice = await openPage(harness());
    await alice.page.getByTestId('start-button').click();
    await waitForState(alice.page, 'waiting');
    // Focus moves to the share panel.
    expect(await alice.page.evaluate(() => document.activeElement?.id)).toBe('share-heading');
    const link = (await alice.page.getByTestId('share-link').textContent()) ?? '';
    expect(link).toMatch(/#[a-z2-9]{4}-[a-z2-9]{4}-[a-z2-9]{4}$/);
    // The creator's own URL carries the fragment, so that a reload comes back to the room.
    expect(alice.page.url()).toBe(link);

    // Masked until revealed; five words from the list, 55 bits, said on screen.
    expect(await alice.page.getByTestId('passphrase').textContent()).not.toMatch(/[a-z]{3,} [a-z]{3,}/);
    await alice.page.getByTestId('passphrase-reveal').click();
    const passphrase = ((await alice.page.getByTestId('passphrase').textContent()) ?? '').trim();
    expect(passphrase.split(' ')).toHaveLength(5);
    expect(await alice.page.getByTestId('strength').getAttribute('data-bits')).toBe('55');
    expect(link).not.toContain(passphrase.replaceAll(' ', ''));
    await alice.page.getByTestId('qr-code').waitFor();

    // Copy: the clipboard has the link, "Copied" is announced, then the button resets.
    await alice.page.getByTestId('copy-link-button').click();
    await alice.page.getByText('Link copied').waitFor({ state: 'attached' });
    expect(await alice.page.getByTestId('copy-link-button').textContent()).toContain('Copied');
    expect(await clipboard(alice.page)).toBe(link);
    await alice.page.getByTestId('copy-link-button').getByText('Copy link').waitFor();
    await alice.page.getByTestId('passphrase-copy').click();
    expect(await clipboard(alice.page)).toBe(passphrase);

    // The joiner sees only what they must do: the passphrase field, focused.
    const bob = await openPage(harness(), new URL(link).hash);
    expect(await focusedTestId(bob.page)).toBe('passphrase-input');
    expect(await bob.page.getByTestId('start-button').count()).toBe(0);
    expect(await bob.page.getByTestId('room-input').count()).toBe(0);
    await bob.page.getByTestId('passphrase-input').fill(passphrase);
    await bob.page.getByTestId('join-button').click();
    await Promise.all([waitForState(alice.page, 'ready'), waitForState(bob.page, 'ready')]);
    // Secure: the passphrase leaves the screen, focus goes to the composer.
    expect(await alice.page.getByTestId('passphrase').count()).toBe(0);
    await alice.page.waitForFunction(
      () => document.activeElement?.getAttribute('data-testid') === 'composer',
    );
    expect(await focusedTestId(bob.page)).toBe('composer');

    for (const { frames } of [alice.frameLog, bob.frameLog]) {
      for (const frame of frames) {
        const bytes = typeof frame === 'string' ? Buffer.from(frame) : frame;
        for (const word of passphrase.split(' '))
          expect(bytes.includes(Buffer.from(` ${word} `))).toBe(false);
        expect(bytes.includes(Buffer.from(passphrase))).toBe(false);
      }
    }
    expect(await alice.page.evaluate(() => JSON.stringify({ ...localStorage, ...sessionStorage }))).toBe(
      '{}',
    );
    expect([...alice.pageErrors, ...bob.pageErrors]).toEqual([]);
  });

  it('Share… hands the link, and only the link, to the system share sheet where there is one', async () => {
    const { page } = await openPage(harness());
    await page.addInitScript(() => {
      const shared: ShareData[] = [];
      Object.assign(window, { shared });
      Object.defineProperty(navigator, 'share', { value: async (data: ShareData) => void shared.push(data) });
    });
    await page.reload();
    const { link, passphrase } = await startConversation(page);
    await page.getByTestId('web-share-button').click();
    const shared = await page.evaluate(() => (window as unknown as { shared: ShareData[] }).shared);
    expect(shared).toHaveLength(1);
    expect(shared[0]?.url).toBe(link);
    expect(JSON.stringify(shared)).not.toContain(passphrase);
  });

  it('the joiner goes from the passphrase to the conversation without the share panel flashing by', async () => {
    const alice = await openPage(harness());
    const { link, passphrase } = await startConversation(alice.page);
    const bob = await openPage(harness(), new URL(link).hash);
    // Every element ever inserted is looked at, even one removed again within the same task.
    await bob.page.evaluate(() => {
      const seen = window as unknown as { sharePanelSeen: boolean };
      seen.sharePanelSeen = false;
      const isPanel = (node: Node) =>
        node instanceof Element &&
        (node.matches('[data-testid="share-link"]') ||
          node.querySelector('[data-testid="share-link"]') !== null);
      new MutationObserver((records) => {
        if (records.some((record) => Array.from(record.addedNodes).some(isPanel))) seen.sharePanelSeen = true;
      }).observe(document.body, { childList: true, subtree: true });
    });
    await bob.page.getByTestId('passphrase-input').fill(passphrase);
    await bob.page.getByTestId('join-button').click();
    await waitForState(bob.page, 'ready');
    expect(
      await bob.page.evaluate(() => (window as unknown as { sharePanelSeen: boolean }).sharePanelSeen),
    ).toBe(false);
    // Alone in the room again, the joiner may invite someone: then the panel is there.
    await leave(alice.page);
    await bob.page.getByTestId('share-link').waitFor();
  });

  it('when the conversation view fails to download, Try again fetches it without a reload', async () => {
    // Cut off before the page loads: its warm-up fetches the chunk as soon as it is idle.
    const context = await harness().browser.newContext();
    let offline = true;
    await context.route('**/assets/ChatView-*.js', (route) => (offline ? route.abort() : route.continue()));
    const page = await context.newPage();
    await page.goto(`${harness().url}/`);
    await page.getByTestId('start-button').click();
    await page.getByTestId('view-load-failed').waitFor();
    offline = false;
    await page.getByTestId('view-load-retry').click();
    await waitForState(page, 'waiting');
    expect(await page.getByTestId('share-link').textContent()).toBe(page.url());
    expect(await page.getByTestId('view-load-failed').count()).toBe(0);
    await context.close();
  });

  it('a reload of the creator page comes back to the same room, as a joiner', async () => {
    const alice = await openPage(harness());
    const { link } = await startConversation(alice.page);
    await alice.page.reload();
    expect(await alice.page.getByTestId('passphrase-input').isVisible()).toBe(true);
    expect(await alice.page.locator('main').textContent()).toContain(new URL(link).hash.slice(1));
  });

  it('the creator may pick their own passphrase before the partner comes', async () => {
    const alice = await openPage(harness());
    const { link } = await startConversation(alice.page);
    await alice.page.getByTestId('change-passphrase-button').click();
    await alice.page.getByTestId('own-passphrase-input').fill('abc');
    expect(await alice.page.getByTestId('strength').getAttribute('data-level')).toBe('hint');
    await alice.page.getByTestId('own-passphrase-input').fill('our own long sentence about the harbour');
    await alice.page.getByTestId('own-passphrase-button').click();
    const bob = await joinByLink(harness(), link, 'our own long sentence about the harbour');
    await Promise.all([waitForState(alice.page, 'ready'), waitForState(bob.page, 'ready')]);
  });

  it('a malformed fragment shows the start page, never a blank one', async () => {
    const { page, pageErrors } = await openPage(harness());
    for (const hash of [
      '#%',
      '#%E0%A4%A',
      '#garbage!!',
      '#ab',
      '#room-one&suite=rot13',
      '#room-one&salt=00',
    ]) {
      // A fresh load each time (not a fragment change in place): about:blank in between.
      await page.goto('about:blank');
      await page.goto(`${harness().url}/${hash}`);
      await page.getByTestId('start-button').waitFor();
      expect(await page.getByRole('status').first().textContent()).toContain('link you opened');
    }
    // A fragment changed in place (a link pasted into this tab) is read too.
    await page.evaluate(() => (window.location.hash = '#pasted-room'));
    await page.getByTestId('passphrase-input').waitFor();
    expect(pageErrors).toEqual([]);
  });

  it('start your own conversation instead leaves the link behind', async () => {
    const page = await openPage(harness(), '#some-room-code');
    await page.page.getByRole('link', { name: 'Start your own conversation instead' }).click();
    await page.page.getByTestId('start-button').click();
    await waitForState(page.page, 'waiting');
    expect(new URL(page.page.url()).hash).not.toBe('#some-room-code');
  });

  it('a des link carries the suite and the salt; des never says secure and says it cannot confirm delivery', async () => {
    const alice = await openPage(harness());
    await alice.page.locator('details.options summary').click();
    await alice.page.getByTestId('start-suite-select').selectOption('des');
    await alice.page.getByTestId('start-salt-input').fill('123456789abcdefa1122334455667788');
    await alice.page.getByTestId('start-button').click();
    const link = (await alice.page.getByTestId('share-link').textContent()) ?? '';
    expect(new URL(link).hash).toMatch(/&suite=des&salt=123456789abcdefa1122334455667788$/);
    await alice.page.getByTestId('passphrase-reveal').click();
    const passphrase = ((await alice.page.getByTestId('passphrase').textContent()) ?? '').trim();
    expect(passphrase.split(' ')).toHaveLength(6); // 66 bits: above the des warning
    expect(await alice.page.getByTestId('strength').getAttribute('data-level')).toBe('ok');

    const bob = await joinByLink(harness(), link, passphrase);
    await Promise.all([waitForState(alice.page, 'ready'), waitForState(bob.page, 'ready')]);
    for (const page of [alice.page, bob.page]) {
      const status = (await page.getByTestId('status').textContent()) ?? '';
      expect(status).toContain('Connected (des: unauthenticated)');
      expect(status).not.toMatch(/secure/i);
      expect(await page.getByTestId('des-warning').getAttribute('open')).toBeNull(); // collapsed
      expect(await page.getByTestId('safety-code').count()).toBe(0);
    }
    await sendMessage(alice.page, 'old school');
    await waitForMessage(bob.page, 'in', 'old school');
    await alice.page
      .locator('[data-testid="message"][data-status="sent"], [data-status="delivered"]')
      .waitFor();
    expect(await alice.page.getByTestId('des-warning').textContent()).toContain('cannot confirm delivery');
  });

  it('des with a wrong passphrase: the receiver is told what to do and can enter it again', async () => {
    const alice = await openPage(harness());
    const { link, passphrase } = await startConversation(alice.page, 'des');
    const bob = await joinByLink(harness(), link, 'a wrong guess');
    await Promise.all([waitForState(alice.page, 'ready'), waitForState(bob.page, 'ready')]);
    await sendMessage(alice.page, 'can you read me');
    await waitForError(bob.page, 'decrypt-failed');
    await bob.page.getByTestId('retry-passphrase-input').fill(passphrase);
    await bob.page.getByTestId('retry-button').click();
    await waitForState(bob.page, 'ready');
    await sendMessage(alice.page, 'now you can');
    await waitForMessage(bob.page, 'in', 'now you can');
  });
});

describe('safety code and honest states', () => {
  it('both pages show the same safety code; a new session shows a new one', async () => {
    const alice = await openPage(harness());
    const { link, passphrase } = await startConversation(alice.page);
    const bob = await joinByLink(harness(), link, passphrase);
    await Promise.all([
      alice.page.getByTestId('safety-code').waitFor(),
      bob.page.getByTestId('safety-code').waitFor(),
    ]);
    const first = await alice.page.getByTestId('safety-code').textContent();
    expect(first?.split(' ')).toHaveLength(5);
    expect(await bob.page.getByTestId('safety-code').textContent()).toBe(first);

    await leave(bob.page);
    await alice.page.locator('[data-testid="system-line"][data-kind="partner-left"]').waitFor();
    expect(await alice.page.getByTestId('safety-code').count()).toBe(0);
    const carol = await joinByLink(harness(), link, passphrase);
    await Promise.all([carol.page.getByTestId('safety-code').waitFor(), waitForState(alice.page, 'ready')]);
    await alice.page.getByTestId('safety-code').waitFor();
    const second = await alice.page.getByTestId('safety-code').textContent();
    expect(await carol.page.getByTestId('safety-code').textContent()).toBe(second);
    expect(second).not.toBe(first);
  });

  it('after a mismatch each side says who waits for whom, and focus goes to the passphrase field', async () => {
    const alice = await openPage(harness());
    const { link, passphrase } = await startConversation(alice.page);
    const bob = await joinByLink(harness(), link, 'wrong words entirely');
    await Promise.all([
      waitForError(alice.page, 'passphrase-mismatch'),
      waitForError(bob.page, 'passphrase-mismatch'),
    ]);
    expect(await focusedTestId(bob.page)).toBe('retry-passphrase-input');
    await alice.page.waitForFunction(
      () => document.activeElement?.getAttribute('data-testid') === 'retry-passphrase-input',
    );

    // Alice tries again: she is told she waits for Bob; Bob is told Alice tried again.
    await alice.page.getByTestId('retry-same-button').click();
    await alice.page
      .getByTestId('status')
      .getByText('Waiting for your partner to enter the passphrase again')
      .waitFor();
    await bob.page.locator('[data-testid="retry-state"][data-state="partner-retried"]').waitFor();
    expect(await bob.page.getByTestId('status').textContent()).toContain('Your partner tried again');

    await bob.page.getByTestId('retry-passphrase-input').fill(passphrase);
    await bob.page.getByTestId('retry-button').click();
    await Promise.all([waitForState(alice.page, 'ready'), waitForState(bob.page, 'ready')]);
  });

  it('a suite mismatch (a typed code) is told on both sides, with an action to switch', async () => {
    const room = uniqueRoom('suites');
    const alice = await openPage(harness());
    const bob = await openPage(harness());
    await joinRoom(alice.page, { room, passphrase: 'same words', suite: 'modern' });
    await waitForState(alice.page, 'waiting');
    await joinRoom(bob.page, { room, passphrase: 'same words', suite: 'des' });
    await Promise.all([waitForError(bob.page, 'suite-mismatch'), waitForError(alice.page, 'suite-mismatch')]);
    expect(await alice.page.getByTestId('error').textContent()).toContain('des');
    expect(await alice.page.getByTestId('switch-suite-button').textContent()).toContain('des');
    await bob.page.getByTestId('switch-suite-button').click();
    await Promise.all([waitForState(alice.page, 'ready'), waitForState(bob.page, 'ready')]);
    expect(await bob.page.getByTestId('status').textContent()).toContain('modern');
  });

  it('partner joined, away, back and left appear as lines in the conversation', async () => {
    const alice = await openPage(harness());
    const { link, passphrase } = await startConversation(alice.page);
    let cut: (() => void) | undefined;
    const bob = await openPage(harness(), new URL(link).hash);
    await bob.page.routeWebSocket(/\/ws$/, (client) => {
      const server = client.connectToServer();
      client.onMessage((message) => server.send(message));
      server.onMessage((message) => client.send(message));
      cut = () => {
        void server.close({ code: 4000, reason: 'link dropped' });
        void client.close({ code: 4000, reason: 'link dropped' });
      };
    });
    await bob.page.getByTestId('passphrase-input').fill(passphrase);
    await bob.page.getByTestId('join-button').click();
    await waitForState(alice.page, 'ready');
    cut?.();
    await alice.page.locator('[data-testid="system-line"][data-kind="partner-away"]').waitFor();
    await alice.page.locator('[data-testid="system-line"][data-kind="partner-back"]').waitFor();
    await leave(bob.page);
    await alice.page.locator('[data-testid="system-line"][data-kind="partner-left"]').waitFor();
    const kinds = await alice.page
      .getByTestId('system-line')
      .evaluateAll((lines) => lines.map((line) => line.getAttribute('data-kind')));
    expect(kinds).toEqual(['partner-joined', 'partner-away', 'partner-back', 'partner-left']);
  });
});

describe('strength estimate', () => {
  it('counts list words by words and anything else by characters; modern hints, des warns, nothing blocks', async () => {
    const { page } = await openPage(harness());
    await page.getByTestId('join-with-code-button').click();
    const input = page.getByTestId('passphrase-input');
    const strength = page.getByTestId('strength');
    await input.fill('abandon ability able about above');
    await page.waitForFunction(
      () => document.querySelector('[data-testid="strength"]')?.getAttribute('data-bits') === '55',
    );
    expect(await strength.textContent()).toContain('5 words from the list');
    await input.fill('tr0ub4dor');
    expect(await strength.getAttribute('data-level')).toBe('hint');
    expect(await strength.textContent()).toContain('online');
    await page.getByTestId('suite-select').selectOption('des');
    await input.fill('abandon ability able about above');
    expect(await strength.getAttribute('data-level')).toBe('warning');
    expect(await strength.textContent()).toContain('offline');
    // Never blocks: the weak passphrase still joins.
    await page.getByTestId('room-input').fill(uniqueRoom('weak'));
    await page.getByTestId('join-button').click();
    await waitForState(page, 'waiting');
  });
});
