/**
 * The browser harness: a real relay on a free loopback port serving the built app, and
 * Debian's Chromium driven by playwright-core. No sleeps: every wait is on a condition.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type BrowserContextOptions, type Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll } from 'vitest';
import { startServer, type RunningServer, type StartOptions } from '../server/src/server.ts';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const staticDir = fileURLToPath(new URL('../web/dist', import.meta.url));

export interface Harness {
  url: string;
  /** The relay itself (its seed gateway, for one). */
  server: RunningServer;
  browser: Browser;
  close(): Promise<void>;
}

/**
 * One relay and one browser for the test file: started before its tests, closed after. Every
 * page a test opened is closed after it, so that no test pays for the last one's pages (their
 * sockets, heartbeats and peer connections keep running until closed).
 */
export function useHarness(options: StartOptions = {}): () => Harness {
  let harness: Harness | undefined;
  beforeAll(async () => {
    harness = await startHarness(options);
  });
  afterEach(async () => {
    await Promise.all(harness?.browser.contexts().map((context) => context.close()) ?? []);
  });
  afterAll(async () => {
    await harness?.close();
  });
  return () => {
    if (!harness) throw new Error('the harness is not started');
    return harness;
  };
}

/** A fresh room code per test, so that tests never meet. */
export function uniqueRoom(name: string): string {
  return `${name}-${Math.random().toString(36).slice(2, 10)}`;
}

export async function startHarness(options: StartOptions = {}): Promise<Harness> {
  if (!existsSync(`${staticDir}/index.html`))
    throw new Error('web/dist is missing: run `npm run build` first');
  const server = await startServer({ port: 0, host: '127.0.0.1', staticDir, ...options });
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  return {
    url: server.url,
    server,
    browser,
    async close() {
      await browser.close();
      await server.close();
    },
  };
}

/** Every WebSocket frame a page sent or received, as the relay carried it. */
export interface FrameLog {
  frames: (string | Buffer)[];
  /** Only those the page sent. */
  sent: (string | Buffer)[];
}

export interface OpenedPage {
  page: Page;
  frameLog: FrameLog;
  /** Uncaught page errors and console errors: a test can assert there were none. */
  pageErrors: string[];
}

export async function openPage(
  harness: Harness,
  hash = '',
  options: BrowserContextOptions = {},
): Promise<OpenedPage> {
  const context = await harness.browser.newContext(options);
  // Copy buttons write to the clipboard; tests read it back.
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: harness.url });
  const page = await context.newPage();
  const frameLog: FrameLog = { frames: [], sent: [] };
  const pageErrors: string[] = [];
  page.on('pageerror', (error) => pageErrors.push(error.message));
  page.on('console', (message) => {
    if (message.type() === 'error') pageErrors.push(message.text());
  });
  page.on('websocket', (socket) => {
    socket.on('framesent', ({ payload }) => {
      frameLog.frames.push(payload);
      frameLog.sent.push(payload);
    });
    socket.on('framereceived', ({ payload }) => frameLog.frames.push(payload));
  });
  await page.goto(`${harness.url}/${hash}`);
  return { page, frameLog, pageErrors };
}

/** Three independent pages (one browser context each), opened at once: a pair and a newcomer. */
export function openThreePages(harness: Harness): Promise<[OpenedPage, OpenedPage, OpenedPage]> {
  return Promise.all([openPage(harness), openPage(harness), openPage(harness)]);
}

export interface JoinOptions {
  room: string;
  passphrase: string;
  suite: 'modern' | 'des';
  salt?: string;
}

/** Joins by typed code from the start page (the code form opens behind `join-with-code-button`). */
export async function joinRoom(page: Page, options: JoinOptions): Promise<void> {
  const codeButton = page.getByTestId('join-with-code-button');
  if (await codeButton.isVisible()) await codeButton.click();
  await page.getByTestId('room-input').fill(options.room);
  await page.getByTestId('passphrase-input').fill(options.passphrase);
  await page.getByTestId('suite-select').selectOption(options.suite);
  if (options.salt !== undefined) await page.getByTestId('salt-input').fill(options.salt);
  await page.getByTestId('join-button').click();
}

export interface Started {
  /** The share link, as the page shows it. */
  link: string;
  /** The generated passphrase, read after pressing Reveal. */
  passphrase: string;
}

/** Starts a conversation with one click (and, for `des`, the suite picked first); returns what to share. */
export async function startConversation(page: Page, suite: 'modern' | 'des' = 'modern'): Promise<Started> {
  if (suite !== 'modern') {
    await page.locator('details.options summary').click();
    await page.getByTestId('start-suite-select').selectOption(suite);
  }
  await page.getByTestId('start-button').click();
  const link = (await page.getByTestId('share-link').textContent()) ?? '';
  await page.getByTestId('passphrase-reveal').click();
  const passphrase = (await page.getByTestId('passphrase').textContent())?.trim() ?? '';
  await page.getByTestId('passphrase-reveal').click();
  return { link, passphrase };
}

/** Opens a share link in a new page and joins with `passphrase` from the joiner view. */
export async function joinByLink(harness: Harness, link: string, passphrase: string): Promise<OpenedPage> {
  const opened = await openPage(harness, new URL(link).hash);
  await opened.page.getByTestId('passphrase-input').fill(passphrase);
  await opened.page.getByTestId('join-button').click();
  return opened;
}

/** Leaves, confirming when the page asks (it does once there are messages). */
export async function leave(page: Page): Promise<void> {
  await page.getByTestId('leave-button').click();
  const confirm = page.getByTestId('leave-confirm');
  if (await confirm.isVisible()) await confirm.click();
  await page.getByTestId('start-button').waitFor();
}

export async function waitForState(page: Page, state: string): Promise<void> {
  await page.locator(`[data-testid="status"][data-state="${state}"]`).waitFor();
}

export async function waitForError(page: Page, code: string): Promise<void> {
  await page.locator(`[data-testid="error"][data-code="${code}"]`).waitFor();
}

/**
 * Ticks "Always use the relay" in this page's browser storage, as a user who chose it earlier;
 * takes effect at the next load. For tests about the relay path itself (its frames, its cuts).
 */
export async function preferRelay(page: Page): Promise<void> {
  await page.addInitScript({ content: "localStorage.setItem('duet.always-relay', '1');" });
}

export async function sendMessage(page: Page, text: string): Promise<void> {
  await page.getByTestId('composer').fill(text);
  await page.getByTestId('send-button').click();
}

/** Waits until the page shows a message with this direction and exact text. */
export async function waitForMessage(page: Page, direction: 'in' | 'out', text: string): Promise<void> {
  await page
    .locator(`[data-testid="message"][data-direction="${direction}"]`)
    .filter({ has: page.getByTestId('message-text').getByText(text, { exact: true }) })
    .first()
    .waitFor();
}

/** Waits until exactly `count` of the page's outgoing messages show `delivered`. */
export async function waitForDelivered(page: Page, count: number): Promise<void> {
  await page.waitForFunction(
    (n) =>
      document.querySelectorAll('[data-testid="message"][data-direction="out"][data-status="delivered"]')
        .length === n,
    count,
  );
}

export async function messageTexts(page: Page, direction: 'in' | 'out'): Promise<string[]> {
  return page
    .locator(`[data-testid="message"][data-direction="${direction}"] [data-testid="message-text"]`)
    .allTextContents();
}

/** True when `needle` occurs in `haystack` as bytes (frames are binary or text). */
export function containsBytes(haystack: string | Buffer, needle: string): boolean {
  const bytes = typeof haystack === 'string' ? Buffer.from(haystack, 'utf8') : haystack;
  return bytes.includes(Buffer.from(needle, 'utf8'));
}
