/**
 * The direct path in real browsers: two Chromium pages (a browser context each) on one relay,
 * WebRTC with host candidates only (Chrome's mDNS names), no STUN. Each page records every
 * RTCPeerConnection and data channel it creates, so that a test can count them or cut one.
 */
import { randomBytes } from 'node:crypto';
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
  waitForDelivered,
  waitForMessage,
  waitForState,
  type OpenedPage,
} from './harness.ts';
import { download, fileCard, MiB, onDisk, sha256, waitForFileState } from './file-helpers.ts';

const harness = useHarness();

/** Records the page's peer connections and data channels in `window.__duet`. */
const RECORD_WEBRTC = `
  window.__duet = { peers: [], channels: [] };
  const Original = window.RTCPeerConnection;
  window.RTCPeerConnection = class extends Original {
    constructor(configuration) {
      super(configuration);
      window.__duet.peers.push(this);
    }
    createDataChannel(label, init) {
      const channel = super.createDataChannel(label, init);
      window.__duet.channels.push(channel);
      return channel;
    }
  };
`;

interface Recorded {
  peers: RTCPeerConnection[];
  channels: RTCDataChannel[];
}

/** A page that records its WebRTC objects (and, with `relayOnly`, has "Always use the relay" on). */
async function recordingPage(relayOnly = false): Promise<OpenedPage> {
  const page = await openPage(harness());
  await page.page.addInitScript({ content: RECORD_WEBRTC });
  if (relayOnly) await preferRelay(page.page);
  await page.page.reload();
  return page;
}

async function pair(options: { aliceRelayOnly?: boolean } = {}): Promise<[OpenedPage, OpenedPage]> {
  const room = uniqueRoom('direct');
  const alice = await recordingPage(options.aliceRelayOnly);
  const bob = await recordingPage();
  await joinRoom(alice.page, { room, passphrase: 'straight to you', suite: 'modern' });
  await joinRoom(bob.page, { room, passphrase: 'straight to you', suite: 'modern' });
  await Promise.all([waitForState(alice.page, 'ready'), waitForState(bob.page, 'ready')]);
  return [alice, bob];
}

async function waitForPath(page: Page, path: 'direct' | 'relay'): Promise<void> {
  await page.locator(`[data-testid="status"][data-path="${path}"]`).waitFor();
}

const peerCount = (page: Page) =>
  page.evaluate(() => (window as unknown as { __duet: Recorded }).__duet.peers.length);

/** The relay's own count of binary frames it relayed (all rooms: this file runs one at a time). */
async function relayedFrames(): Promise<number> {
  const text = await (await fetch(`${harness().url}/metrics`)).text();
  const line = text.split('\n').find((row) => row.startsWith('duet_frames_relayed_total '));
  if (!line) throw new Error('no duet_frames_relayed_total in /metrics');
  return Number(line.split(' ')[1]);
}

/** What the status says, as a screen reader reads it (the separator dot is hidden from it). */
const statusText = (page: Page) =>
  page.getByTestId('status').evaluate((status) => {
    const copy = status.cloneNode(true) as HTMLElement;
    copy.querySelectorAll('[aria-hidden="true"]').forEach((hidden) => hidden.remove());
    return (copy.textContent ?? '').replace(/\s+/g, ' ').trim();
  });

/** SDP lines start with `a=` after a line break; these do not occur by chance in ciphertext. */
function expectNoSignalling(...pages: OpenedPage[]): void {
  const frames = pages.flatMap(({ frameLog }) => frameLog.frames);
  expect(frames.length).toBeGreaterThan(0);
  for (const needle of ['candidate', '\r\na=', 'a=fingerprint', 'a=ice-ufrag', '.local']) {
    for (const frame of frames)
      expect(containsBytes(frame, needle), `a relay frame holds ${needle}`).toBe(false);
  }
}

/** Waits until every peer connection the page made is closed. */
const waitForClosedPeers = (page: Page) =>
  page.waitForFunction(() =>
    (window as unknown as { __duet: Recorded }).__duet.peers.every(
      (peer) => peer.connectionState === 'closed',
    ),
  );

describe('the direct path', () => {
  it('two pages go direct (offer, answer and candidates never in clear on the relay), then the relay carries no binary frame while they chat', async () => {
    const [alice, bob] = await pair();
    await Promise.all([waitForPath(alice.page, 'direct'), waitForPath(bob.page, 'direct')]);
    await expect(statusText(alice.page)).resolves.toBe('Secure channel (modern), Direct');
    expectNoSignalling(alice, bob);
    const before = await relayedFrames();

    for (let i = 1; i <= 10; i++) {
      await sendMessage(alice.page, `a${i}`);
      await sendMessage(bob.page, `b${i}`);
    }
    await Promise.all([waitForDelivered(alice.page, 10), waitForDelivered(bob.page, 10)]);
    expect(await messageTexts(bob.page, 'in')).toEqual(Array.from({ length: 10 }, (_, i) => `a${i + 1}`));
    expect(await messageTexts(alice.page, 'in')).toEqual(Array.from({ length: 10 }, (_, i) => `b${i + 1}`));
    expect(await relayedFrames()).toBe(before);
    expect([await peerCount(alice.page), await peerCount(bob.page)]).toEqual([1, 1]);
    expect([...alice.pageErrors, ...bob.pageErrors]).toEqual([]);
  });

  it('the data channel cut mid-chat: back to the relay, every message once, in order, all delivered', async () => {
    const [alice, bob] = await pair();
    await Promise.all([waitForPath(alice.page, 'direct'), waitForPath(bob.page, 'direct')]);
    const before = await relayedFrames();

    for (let i = 1; i <= 4; i++) await sendMessage(alice.page, `a${i}`);
    // Cut while those may still be in flight; carry on writing on both sides.
    await alice.page.evaluate(() => {
      for (const channel of (window as unknown as { __duet: Recorded }).__duet.channels) channel.close();
    });
    for (let i = 5; i <= 8; i++) await sendMessage(alice.page, `a${i}`);
    for (let i = 1; i <= 3; i++) await sendMessage(bob.page, `b${i}`);

    await Promise.all([waitForDelivered(alice.page, 8), waitForDelivered(bob.page, 3)]);
    expect(await messageTexts(bob.page, 'in')).toEqual(['a1', 'a2', 'a3', 'a4', 'a5', 'a6', 'a7', 'a8']);
    expect(await messageTexts(alice.page, 'in')).toEqual(['b1', 'b2', 'b3']);
    expect(await relayedFrames()).toBeGreaterThan(before); // the relay took over
    // And later the direct path is tried again, with a new connection, signalled in the channel.
    await Promise.all([waitForPath(alice.page, 'direct'), waitForPath(bob.page, 'direct')]);
    expect(await peerCount(alice.page)).toBeGreaterThanOrEqual(2);
    expectNoSignalling(alice, bob);
    expect([...alice.pageErrors, ...bob.pageErrors]).toEqual([]);
  });

  it('a data channel that goes silent (open, but its frames vanish): the heartbeat notices, the relay takes over, nothing lost', async () => {
    const [alice, bob] = await pair();
    await Promise.all([waitForPath(alice.page, 'direct'), waitForPath(bob.page, 'direct')]);
    // What a dead network under an open channel looks like: sends succeed, nothing arrives.
    await alice.page.evaluate(() => {
      for (const channel of (window as unknown as { __duet: Recorded }).__duet.channels)
        channel.send = () => undefined;
    });
    await sendMessage(alice.page, 'into the void');
    await sendMessage(bob.page, 'still here');
    // No event says so: only the unanswered heartbeat (docs/delivery.md) brings the relay back.
    await Promise.all([waitForPath(alice.page, 'relay'), waitForPath(bob.page, 'relay')]);
    await Promise.all([waitForDelivered(alice.page, 1), waitForDelivered(bob.page, 1)]);
    expect(await messageTexts(bob.page, 'in')).toEqual(['into the void']);
    expect(await messageTexts(alice.page, 'in')).toEqual(['still here']);
    expectNoSignalling(alice, bob);
    expect([...alice.pageErrors, ...bob.pageErrors]).toEqual([]);
  });

  it('a file goes direct, and when the data channel is cut mid-transfer the relay carries the rest: byte for byte', async () => {
    const [alice, bob] = await pair();
    await Promise.all([waitForPath(alice.page, 'direct'), waitForPath(bob.page, 'direct')]);
    const before = await relayedFrames();
    const content = randomBytes(6 * MiB);
    await alice.page.getByTestId('file-input').setInputFiles(onDisk('both-ways.bin', content));
    await fileCard(bob.page, 'in', 'both-ways.bin').getByTestId('file-accept').click();
    await bob.page.waitForFunction(() => {
      const bar = document.querySelector('[data-testid="file"][data-direction="in"] progress');
      return bar instanceof HTMLProgressElement && bar.value > 2 * 1024 * 1024;
    });
    // Two megabytes and the offer, the accept and their acknowledgements: none by the relay.
    expect(await relayedFrames()).toBe(before);
    await alice.page.evaluate(() => {
      for (const channel of (window as unknown as { __duet: Recorded }).__duet.channels) channel.close();
    });
    await waitForFileState(bob.page, 'in', 'both-ways.bin', 'done');
    await waitForFileState(alice.page, 'out', 'both-ways.bin', 'done');
    expect(await relayedFrames()).toBeGreaterThan(before); // the relay took over
    expect(sha256((await download(bob.page, 'both-ways.bin')).bytes)).toBe(sha256(content));
    expect([...alice.pageErrors, ...bob.pageErrors]).toEqual([]);
  });

  it('"Always use the relay", on a phone: no RTCPeerConnection on either side; unticked it goes direct, ticked again back to the relay', async () => {
    const [alice, bob] = await pair({ aliceRelayOnly: true });
    await alice.page.setViewportSize({ width: 390, height: 844 });
    await alice.page.getByText('Who can see my IP address?').click();
    const setting = alice.page.getByRole('checkbox', { name: /Always use the relay/ });
    await expect(setting.isChecked()).resolves.toBe(true);
    await sendMessage(alice.page, 'via the relay');
    await waitForMessage(bob.page, 'in', 'via the relay');
    await Promise.all([waitForPath(alice.page, 'relay'), waitForPath(bob.page, 'relay')]);
    await expect(statusText(alice.page)).resolves.toBe('Secure channel (modern), Via relay');
    // Bob did not choose the relay: his status says whose choice it is.
    await expect
      .poll(() => statusText(bob.page))
      .toBe("Secure channel (modern), Via relay (your partner's choice)");
    await waitForDelivered(alice.page, 1);
    expect([await peerCount(alice.page), await peerCount(bob.page)]).toEqual([0, 0]);
    // localStorage holds this choice and nothing else.
    expect(await alice.page.evaluate(() => ({ ...localStorage }))).toEqual({ 'duet.always-relay': '1' });

    await setting.uncheck();
    await Promise.all([waitForPath(alice.page, 'direct'), waitForPath(bob.page, 'direct')]);
    await expect(statusText(bob.page)).resolves.toBe('Secure channel (modern), Direct');
    expect(await alice.page.evaluate(() => ({ ...localStorage }))).toEqual({});
    await sendMessage(alice.page, 'straight to you');
    await waitForMessage(bob.page, 'in', 'straight to you');

    // Ticked again mid-conversation: the link closes at once and the relay carries on.
    await setting.check();
    await Promise.all([waitForPath(alice.page, 'relay'), waitForPath(bob.page, 'relay')]);
    await Promise.all([waitForClosedPeers(alice.page), waitForClosedPeers(bob.page)]);
    await expect
      .poll(() => statusText(bob.page))
      .toBe("Secure channel (modern), Via relay (your partner's choice)");
    const before = await relayedFrames();
    await sendMessage(alice.page, 'back on the relay');
    await waitForMessage(bob.page, 'in', 'back on the relay');
    await waitForDelivered(alice.page, 3);
    expect(await relayedFrames()).toBeGreaterThan(before);
    expect(await alice.page.evaluate(() => ({ ...localStorage }))).toEqual({ 'duet.always-relay': '1' });
    expect([...alice.pageErrors, ...bob.pageErrors]).toEqual([]);
  });
});
