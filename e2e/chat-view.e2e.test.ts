/**
 * The conversation view as people use it: scrolling that does not yank, unread counts,
 * notifications without text, IME- and touch-safe Enter, the character counter, leaving,
 * screen-reader semantics, a 320 px screen and the keyboard alone.
 */
import type { BrowserContextOptions, Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import {
  joinByLink,
  openPage,
  sendMessage,
  startConversation,
  useHarness,
  waitForMessage,
  waitForState,
  type OpenedPage,
} from './harness.ts';

const harness = useHarness();

async function pair(bobOptions: BrowserContextOptions = {}): Promise<[OpenedPage, OpenedPage]> {
  const alice = await openPage(harness());
  const { link, passphrase } = await startConversation(alice.page);
  const bob = await openPage(harness(), new URL(link).hash, bobOptions);
  await bob.page.getByTestId('passphrase-input').fill(passphrase);
  await bob.page.getByTestId('join-button').click();
  await Promise.all([waitForState(alice.page, 'ready'), waitForState(bob.page, 'ready')]);
  return [alice, bob];
}

/** Makes the page believe its tab is hidden (or visible again), as a switch of tab would. */
async function setHidden(page: Page, hidden: boolean): Promise<void> {
  await page.evaluate((value) => {
    Object.defineProperty(document, 'visibilityState', {
      configurable: true,
      get: () => (value ? 'hidden' : 'visible'),
    });
    Object.defineProperty(document, 'hidden', { configurable: true, get: () => value });
    document.dispatchEvent(new Event('visibilitychange'));
  }, hidden);
}

const scrollTop = (page: Page) => page.locator('.scroller').evaluate((element) => element.scrollTop);

describe('the conversation view', () => {
  it('follows new messages only at the bottom; otherwise shows "↓ N new"', async () => {
    const [alice, bob] = await pair();
    for (let i = 0; i < 25; i++) await sendMessage(alice.page, `line ${i}`);
    await waitForMessage(bob.page, 'in', 'line 24');
    // At the bottom: the newest message is in view.
    await bob.page.getByText('line 24', { exact: true }).waitFor();
    expect(
      await bob.page.locator('.scroller').evaluate((e) => e.scrollHeight - e.scrollTop - e.clientHeight),
    ).toBeLessThan(40);

    // Reading older messages: new ones do not move the list.
    await bob.page.locator('.scroller').evaluate((element) => (element.scrollTop = 0));
    await bob.page.waitForFunction(() => document.querySelector('.scroller')?.scrollTop === 0);
    await sendMessage(alice.page, 'while you read');
    await waitForMessage(bob.page, 'in', 'while you read');
    await sendMessage(alice.page, 'and another');
    await bob.page.getByTestId('unread').getByText('2', { exact: true }).waitFor();
    expect(await scrollTop(bob.page)).toBe(0);
    expect(await bob.page.getByTestId('new-messages-button').textContent()).toContain('2 new');

    await bob.page.getByTestId('new-messages-button').click();
    await bob.page.getByTestId('new-messages-button').waitFor({ state: 'detached' });
    expect(await scrollTop(bob.page)).toBeGreaterThan(0);

    // One's own message always scrolls into view.
    await bob.page.locator('.scroller').evaluate((element) => (element.scrollTop = 0));
    await sendMessage(bob.page, 'mine');
    await bob.page.waitForFunction(() => {
      const e = document.querySelector('.scroller');
      return e !== null && e.scrollHeight - e.scrollTop - e.clientHeight < 40;
    });
  });

  it('counts unread messages in the title while the tab is hidden; notifications, if wanted, hold no text', async () => {
    const alice = await openPage(harness());
    const { link, passphrase } = await startConversation(alice.page);
    const bob = await openPage(harness(), new URL(link).hash);
    // A stand-in for the browser's notifications, which headless Chromium does not show.
    await bob.page.evaluate(() => {
      const shown: { title: string; body: string }[] = [];
      (window as unknown as { shown: typeof shown }).shown = shown;
      class FakeNotification {
        static permission = 'default';
        static requestPermission = async () => (FakeNotification.permission = 'granted');
        constructor(title: string, options: { body?: string } = {}) {
          shown.push({ title, body: options.body ?? '' });
        }
      }
      (window as unknown as { Notification: unknown }).Notification = FakeNotification;
    });
    await bob.page.getByTestId('passphrase-input').fill(passphrase);
    await bob.page.getByTestId('join-button').click();
    await Promise.all([waitForState(alice.page, 'ready'), waitForState(bob.page, 'ready')]);
    const title = await bob.page.title();
    await bob.page.getByTestId('notifications-button').click();
    await bob.page.locator('[data-testid="notifications-button"][aria-pressed="true"]').waitFor();

    await setHidden(bob.page, true);
    await sendMessage(alice.page, 'the secret plan');
    await sendMessage(alice.page, 'part two');
    await bob.page.waitForFunction((base) => document.title === `(2) ${base}`, title);
    const shown = await bob.page.evaluate(() => (window as unknown as { shown: { body: string }[] }).shown);
    expect(shown).toHaveLength(2);
    for (const notification of shown) expect(notification.body).not.toMatch(/secret|plan|part two/);

    await setHidden(bob.page, false);
    await bob.page.waitForFunction((base) => document.title === base, title);
  });

  it('Enter during an IME composition does not send; Shift+Enter makes a new line; the counter appears near the limit', async () => {
    const [alice] = await pair();
    const composer = alice.page.getByTestId('composer');
    await composer.fill('にほん');
    await composer.evaluate((element) => {
      element.dispatchEvent(
        new KeyboardEvent('keydown', { key: 'Enter', isComposing: true, bubbles: true, cancelable: true }),
      );
    });
    expect(await alice.page.getByTestId('message').count()).toBe(0);
    await composer.press('Shift+Enter');
    expect(await alice.page.getByTestId('message').count()).toBe(0);
    await composer.press('Enter');
    await waitForMessage(alice.page, 'out', 'にほん');

    expect(await alice.page.getByTestId('char-counter').count()).toBe(0);
    await composer.fill('x'.repeat(3_600));
    expect(await alice.page.getByTestId('char-counter').textContent()).toBe('3,600 / 4,000');
  });

  it('on a touch screen Enter makes a new line and the button sends', async () => {
    const [, bob] = await pair({ hasTouch: true, isMobile: true, viewport: { width: 390, height: 844 } });
    const composer = bob.page.getByTestId('composer');
    await composer.fill('first line');
    await composer.press('Enter');
    await composer.pressSequentially('second line');
    expect(await bob.page.getByTestId('message').count()).toBe(0);
    expect(await composer.inputValue()).toBe('first line\nsecond line');
    await bob.page.getByTestId('send-button').tap();
    await waitForMessage(bob.page, 'out', 'first line\nsecond line');
  });

  it('names each sender in a polite live log, lays text out by its own direction, and asks before leaving', async () => {
    const [alice, bob] = await pair();
    const log = bob.page.getByRole('log');
    expect(await log.getAttribute('aria-live')).toBe('polite');
    await sendMessage(alice.page, 'مرحبا بالعالم');
    await waitForMessage(bob.page, 'in', 'مرحبا بالعالم');
    await sendMessage(bob.page, 'hello');
    await waitForMessage(bob.page, 'out', 'hello');
    const items = await log.getByTestId('message').allTextContents();
    expect(items[0]).toMatch(/^\s*Partner:/);
    expect(items[1]).toMatch(/^\s*You:/);
    expect(await bob.page.getByTestId('message-text').first().getAttribute('dir')).toBe('auto');
    expect(await bob.page.getByTestId('composer').getAttribute('dir')).toBe('auto');

    // Leave asks first when there are messages; Stay keeps everything.
    await bob.page.getByTestId('leave-button').click();
    await bob.page.getByRole('button', { name: 'Stay' }).click();
    await waitForState(bob.page, 'ready');
    expect(await bob.page.getByTestId('message').count()).toBe(2);
    await bob.page.getByTestId('leave-button').click();
    await bob.page.getByTestId('leave-confirm').click();
    await bob.page.getByTestId('start-button').waitFor();
    await waitForState(alice.page, 'waiting');
  });

  it('at 320 px nothing scrolls sideways: start page, code form, share panel, chat; the composer stays in view at 390×844', async () => {
    const noSideScroll = (page: Page) =>
      page.evaluate(() => document.documentElement.scrollWidth <= document.documentElement.clientWidth);
    const phone = { viewport: { width: 320, height: 640 } };
    const alice = await openPage(harness(), '', phone);
    expect(await noSideScroll(alice.page)).toBe(true);
    await alice.page.getByTestId('join-with-code-button').click();
    expect(await noSideScroll(alice.page)).toBe(true);
    const { link, passphrase } = await startConversation(
      await (async () => {
        await alice.page.reload();
        return alice.page;
      })(),
    );
    await alice.page.getByTestId('qr-code').waitFor();
    expect(await noSideScroll(alice.page)).toBe(true);
    const bob = await joinByLink(harness(), link, passphrase);
    await bob.page.setViewportSize({ width: 390, height: 844 });
    await waitForState(alice.page, 'ready');
    for (let i = 0; i < 40; i++)
      await sendMessage(alice.page, `message ${i} ${'w'.repeat(i % 7 === 0 ? 90 : 3)}`);
    await waitForMessage(bob.page, 'in', `message 39 www`);
    expect(await noSideScroll(alice.page)).toBe(true);
    for (const page of [alice.page, bob.page]) {
      const box = await page.getByTestId('composer').boundingBox();
      const height = page.viewportSize()?.height ?? 0;
      expect(box && box.y >= 0 && box.y + box.height <= height).toBe(true);
    }
  });

  it('the whole flow works from the keyboard alone: start, copy, join, send', async () => {
    const alice = await openPage(harness());
    const tabTo = async (page: Page, testId: string) => {
      for (
        let i = 0;
        i < 30 && (await page.evaluate(() => document.activeElement?.getAttribute('data-testid'))) !== testId;
        i++
      )
        await page.keyboard.press('Tab');
      expect(await page.evaluate(() => document.activeElement?.getAttribute('data-testid'))).toBe(testId);
    };
    await tabTo(alice.page, 'start-button');
    await alice.page.keyboard.press('Enter');
    await waitForState(alice.page, 'waiting');
    await tabTo(alice.page, 'copy-link-button');
    await alice.page.keyboard.press('Enter');
    await alice.page.getByText('Link copied').waitFor({ state: 'attached' });
    const link = await alice.page.evaluate(() => navigator.clipboard.readText());
    await tabTo(alice.page, 'passphrase-copy');
    await alice.page.keyboard.press('Enter');
    await alice.page.getByText('Passphrase copied').waitFor({ state: 'attached' });
    const passphrase = await alice.page.evaluate(() => navigator.clipboard.readText());

    const bob = await openPage(harness(), new URL(link).hash);
    await bob.page.keyboard.type(passphrase); // the passphrase field has focus
    await bob.page.keyboard.press('Enter');
    await Promise.all([waitForState(alice.page, 'ready'), waitForState(bob.page, 'ready')]);
    await bob.page.waitForFunction(() => document.activeElement?.getAttribute('data-testid') === 'composer');
    await bob.page.keyboard.type('typed, not clicked');
    await bob.page.keyboard.press('Enter');
    await waitForMessage(alice.page, 'in', 'typed, not clicked');
  });
});
