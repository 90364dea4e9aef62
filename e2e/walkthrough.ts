/**
 * One walk through every state a person meets, with two (then three) pages: start, share
 * panel, joiner view, mismatch, waiting for the partner to retry, secure chat with messages
 * (over the direct path, the first page's connection setting open), the partner gone, a
 * refused third page, and a `des` chat. At each state `visit` is called with the pages that
 * show it. The accessibility test scans there; `npm run screenshots` takes pictures there.
 */
import type { BrowserContextOptions, Page } from 'playwright-core';
import {
  joinByLink,
  leave,
  openPage,
  sendMessage,
  startConversation,
  waitForError,
  waitForMessage,
  waitForState,
  type Harness,
} from './harness.ts';

export type StateName =
  | 'start'
  | 'share-panel'
  | 'joiner-view'
  | 'mismatch'
  | 'waiting'
  | 'partner-retried'
  | 'secure-chat'
  | 'leave-confirm'
  | 'partner-left'
  | 'refused'
  | 'closed'
  | 'des-chat';

export type Visit = (state: StateName, pages: Page[]) => Promise<void>;

export async function walkThrough(
  harness: Harness,
  visit: Visit,
  options: BrowserContextOptions = {},
): Promise<void> {
  const alice = await openPage(harness, '', options);
  await visit('start', [alice.page]);
  const { link, passphrase } = await startConversation(alice.page);
  await alice.page.getByTestId('qr-code').waitFor();
  await visit('share-panel', [alice.page]);

  const bob = await openPage(harness, new URL(link).hash, options);
  await visit('joiner-view', [bob.page]);
  await bob.page.getByTestId('passphrase-input').fill('not the right words');
  await bob.page.getByTestId('join-button').click();
  await Promise.all([
    waitForError(alice.page, 'passphrase-mismatch'),
    waitForError(bob.page, 'passphrase-mismatch'),
  ]);
  await visit('mismatch', [alice.page, bob.page]);

  await alice.page.getByTestId('retry-same-button').click();
  await bob.page.locator('[data-testid="retry-state"][data-state="partner-retried"]').waitFor();
  await visit('waiting', [alice.page]);
  await visit('partner-retried', [bob.page]);

  await bob.page.getByTestId('retry-passphrase-input').fill(passphrase);
  await bob.page.getByTestId('retry-button').click();
  await Promise.all([waitForState(alice.page, 'ready'), waitForState(bob.page, 'ready')]);
  await bob.page.getByTestId('safety-code').waitFor();
  const lines = [
    ['Hi! Are the five words the same on your screen?', 'They are: we are good.'],
    ['Great. Meet at the station at six?', 'שלום! Six works — see you there.'],
  ];
  for (const [fromAlice, fromBob] of lines) {
    await sendMessage(alice.page, fromAlice ?? '');
    await waitForMessage(bob.page, 'in', fromAlice ?? '');
    await sendMessage(bob.page, fromBob ?? '');
    await waitForMessage(alice.page, 'in', fromBob ?? '');
  }
  await alice.page
    .locator('[data-testid="message"][data-direction="out"][data-status="delivered"]')
    .nth(lines.length - 1)
    .waitFor();
  // The two browsers connect directly (the status says so) once the channel is secure. The
  // first page also opens its connection setting, so that the same scans and pictures show it.
  for (const page of [alice.page, bob.page])
    await page.locator('[data-testid="status"][data-path="direct"]').waitFor();
  const connection = alice.page.getByText('Who can see my IP address?');
  await connection.click();
  await alice.page.getByRole('checkbox', { name: /Always use the relay/ }).waitFor();
  await visit('secure-chat', [alice.page, bob.page]);
  await connection.click();

  await bob.page.getByTestId('leave-button').click();
  await bob.page.getByTestId('leave-confirm').waitFor();
  await visit('leave-confirm', [bob.page]);
  await bob.page.getByTestId('leave-confirm').click();
  await alice.page.locator('[data-testid="system-line"][data-kind="partner-left"]').waitFor();
  await visit('partner-left', [alice.page]);

  // A room already taken by two: the newcomer's conversation is over before it began.
  const carol = await openPage(harness, new URL(link).hash, options);
  const dave = await joinByLink(harness, link, passphrase);
  await waitForState(alice.page, 'ready');
  await carol.page.getByTestId('passphrase-input').fill(passphrase);
  await carol.page.getByTestId('join-button').click();
  await waitForError(carol.page, 'room-full');
  await visit('refused', [carol.page]);
  await leave(alice.page);
  await dave.page.context().close();
  await carol.page.context().close();

  const lost = await lostForGood(harness, options);
  await visit('closed', [lost]);
  await lost.context().close();

  const desLink = (await startConversation(alice.page, 'des')).link;
  const desPassphrase = await revealedPassphrase(alice.page);
  await bob.page.goto(desLink);
  await bob.page.getByTestId('passphrase-input').fill(desPassphrase);
  await bob.page.getByTestId('join-button').click();
  await Promise.all([waitForState(alice.page, 'ready'), waitForState(bob.page, 'ready')]);
  await sendMessage(alice.page, 'Testing the old client.');
  await waitForMessage(bob.page, 'in', 'Testing the old client.');
  await sendMessage(bob.page, 'Received, but use modern next time.');
  await waitForMessage(alice.page, 'in', 'Received, but use modern next time.');
  await visit('des-chat', [alice.page, bob.page]);
  await alice.page.context().close();
  await bob.page.context().close();
}

/**
 * A page whose connection drops and never comes back: it tries again (with back-off, on a fake
 * clock that the test moves on) until it gives up, `closed` with `connection-lost`.
 */
async function lostForGood(harness: Harness, options: BrowserContextOptions): Promise<Page> {
  const context = await harness.browser.newContext(options);
  const page = await context.newPage();
  await page.clock.install();
  let first: { cut(): void } | undefined;
  await page.routeWebSocket(/\/ws$/, (client) => {
    if (first) return void client.close({ code: 4000, reason: 'offline' });
    const server = client.connectToServer();
    client.onMessage((message) => server.send(message));
    server.onMessage((message) => client.send(message));
    first = {
      cut: () => {
        void server.close({ code: 4000, reason: 'offline' });
        void client.close({ code: 4000, reason: 'offline' });
      },
    };
  });
  await page.goto(`${harness.url}/`);
  await page.getByTestId('start-button').click();
  await waitForState(page, 'waiting');
  first?.cut();
  const closed = page.locator('[data-testid="status"][data-state="closed"]');
  // Bounded: 30 attempts, at most 10 s (+20 %) apart.
  for (let i = 0; i < 80 && !(await closed.isVisible()); i++) {
    await page.clock.fastForward(13_000);
    await closed.waitFor({ timeout: 250 }).catch(() => undefined);
  }
  await waitForError(page, 'connection-lost');
  await closed.waitFor();
  return page;
}

async function revealedPassphrase(page: Page): Promise<string> {
  await page.getByTestId('passphrase-reveal').click();
  const text = (await page.getByTestId('passphrase').textContent())?.trim() ?? '';
  await page.getByTestId('passphrase-reveal').click();
  return text;
}
