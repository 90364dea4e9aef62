/**
 * Files in the browser, the way people meet them: picked with the file button, accepted (or
 * taken at once, for a small image), watched as they arrive, downloaded, and compared byte for
 * byte with what was sent (SHA-256 of the downloaded file). Also: cancelling from either side, a
 * link cut mid-transfer, a chunk altered in flight, and `des`, which offers no files.
 */
import { randomBytes } from 'node:crypto';
import { deflateSync } from 'node:zlib';
import type { Page, WebSocketRoute } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { safeFileName } from '../packages/core/src/session/file-name.ts';
import {
  joinByLink,
  openPage,
  preferRelay,
  sendMessage,
  startConversation,
  useHarness,
  waitForError,
  waitForMessage,
  waitForState,
  type OpenedPage,
} from './harness.ts';
import { axeScan } from './axe.ts';
import { download, fileCard, MiB, onDisk, sha256, waitForFileState } from './file-helpers.ts';

const harness = useHarness();

/** A real PNG (a gradient), so that the preview has something to decode. */
function png(width: number, height: number): Buffer {
  const crcTable = Array.from({ length: 256 }, (_, n) => {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    return c >>> 0;
  });
  const crc = (bytes: Buffer) => {
    let c = 0xffffffff;
    for (const byte of bytes) c = crcTable[(c ^ byte) & 0xff]! ^ (c >>> 8);
    return (c ^ 0xffffffff) >>> 0;
  };
  const chunk = (type: string, data: Buffer) => {
    const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
    const out = Buffer.alloc(body.length + 8);
    out.writeUInt32BE(data.length, 0);
    body.copy(out, 4);
    out.writeUInt32BE(crc(body), body.length + 4);
    return out;
  };
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header[8] = 8; // bit depth
  header[9] = 2; // truecolour
  const rows = Buffer.alloc(height * (1 + width * 3));
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const at = y * (1 + width * 3) + 1 + x * 3;
      rows[at] = (x * 255) / width;
      rows[at + 1] = (y * 255) / height;
      rows[at + 2] = 160;
    }
  }
  return Buffer.concat([
    Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]),
    chunk('IHDR', header),
    chunk('IDAT', deflateSync(rows)),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

/**
 * Two pages in a secure `modern` conversation; `route` lets a test put itself on Bob's link to
 * the relay, and so also keeps the pair on the relay ("Always use the relay" on Bob's side):
 * on the direct path nothing would pass there (direct.e2e.test.ts sends files that way).
 */
async function securePair(route?: (page: Page) => Promise<void>): Promise<[OpenedPage, OpenedPage]> {
  const alice = await openPage(harness());
  const { link, passphrase } = await startConversation(alice.page);
  const bob = await openPage(harness(), new URL(link).hash);
  if (route) {
    await route(bob.page);
    await preferRelay(bob.page);
    await bob.page.reload();
  }
  await bob.page.getByTestId('passphrase-input').fill(passphrase);
  await bob.page.getByTestId('join-button').click();
  await Promise.all([waitForState(alice.page, 'ready'), waitForState(bob.page, 'ready')]);
  return [alice, bob];
}

describe('files in the browser (modern)', () => {
  it('files of 0 B, 1 B, 1 MiB and 20 MiB arrive byte for byte, with progress, after the receiver accepts', async () => {
    const [alice, bob] = await securePair();
    const uploads = [
      { name: 'empty.txt', buffer: Buffer.alloc(0) },
      { name: 'one.bin', buffer: randomBytes(1) },
      { name: 'notes.pdf', buffer: randomBytes(MiB) },
      { name: 'archive.zip', buffer: randomBytes(20 * MiB) },
    ];
    await alice.page.getByTestId('file-input').setInputFiles(uploads.map((u) => onDisk(u.name, u.buffer)));
    for (const upload of uploads) {
      await waitForFileState(bob.page, 'in', upload.name, 'offered');
      await waitForFileState(alice.page, 'out', upload.name, 'offered');
      await fileCard(bob.page, 'in', upload.name).getByTestId('file-accept').click();
    }
    // The big one shows its progress on both sides while it moves.
    await fileCard(bob.page, 'in', 'archive.zip').getByTestId('file-progress').waitFor();
    await fileCard(alice.page, 'out', 'archive.zip').getByTestId('file-progress').waitFor();
    // The chat goes on meanwhile.
    await sendMessage(bob.page, 'got the small ones?');
    await waitForMessage(alice.page, 'in', 'got the small ones?');
    for (const upload of uploads) {
      await waitForFileState(bob.page, 'in', upload.name, 'done');
      await waitForFileState(alice.page, 'out', upload.name, 'done');
      const { bytes, savedAs, href } = await download(bob.page, upload.name);
      expect(href).toMatch(/^blob:/);
      expect(savedAs).toBe(upload.name);
      expect(sha256(bytes)).toBe(sha256(upload.buffer));
    }
    expect(await alice.page.getByTestId('file-download').count()).toBe(0); // the sender has nothing to download
    expect([...alice.pageErrors, ...bob.pageErrors]).toEqual([]);
  });

  it('a small image is taken at once and shown inline from a blob: URL, on both sides', async () => {
    const [alice, bob] = await securePair();
    const image = png(240, 160);
    await alice.page
      .getByTestId('file-input')
      .setInputFiles([{ name: 'sunset.png', mimeType: 'image/png', buffer: image }]);
    await waitForFileState(bob.page, 'in', 'sunset.png', 'done');
    for (const page of [bob.page, alice.page]) {
      const preview = fileCard(page, page === bob.page ? 'in' : 'out', 'sunset.png').getByTestId(
        'file-preview',
      );
      await preview.waitFor();
      expect(await preview.getAttribute('src')).toMatch(/^blob:/);
      await page.waitForFunction(
        () =>
          (document.querySelector('[data-testid="file-preview"]') as HTMLImageElement | null)
            ?.naturalWidth === 240,
      );
    }
    expect(sha256((await download(bob.page, 'sunset.png')).bytes)).toBe(sha256(image));
    // axe on a conversation with files in it: offered, transferring or done.
    const result = await axeScan(bob.page);
    expect(result.violations.map((v) => v.id)).toEqual([]);
  });

  it('a pasted screenshot and a dropped file are sent like picked ones', async () => {
    const [alice, bob] = await securePair();
    const screenshot = png(200, 120);
    // What the browser hands the page when an image is pasted, and when a file is dropped.
    await alice.page.getByTestId('composer').focus();
    await alice.page.evaluate(
      (bytes) => {
        const transfer = new DataTransfer();
        transfer.items.add(new File([new Uint8Array(bytes)], 'image.png', { type: 'image/png' }));
        const composer = document.querySelector('[data-testid="composer"]')!;
        composer.dispatchEvent(
          new ClipboardEvent('paste', { clipboardData: transfer, bubbles: true, cancelable: true }),
        );
      },
      [...screenshot],
    );
    await waitForFileState(bob.page, 'in', 'image.png', 'done');
    expect(sha256((await download(bob.page, 'image.png')).bytes)).toBe(sha256(screenshot));
    expect(await alice.page.getByTestId('composer').inputValue()).toBe('');

    await alice.page.evaluate(() => {
      const transfer = new DataTransfer();
      transfer.items.add(new File(['dropped on the chat'], 'dropped.txt', { type: 'text/plain' }));
      const chat = document.querySelector('section.chat')!;
      for (const type of ['dragenter', 'dragover', 'drop'])
        chat.dispatchEvent(new DragEvent(type, { dataTransfer: transfer, bubbles: true, cancelable: true }));
    });
    await waitForFileState(bob.page, 'in', 'dropped.txt', 'offered');
    await fileCard(bob.page, 'in', 'dropped.txt').getByTestId('file-accept').click();
    await waitForFileState(bob.page, 'in', 'dropped.txt', 'done');
    expect((await download(bob.page, 'dropped.txt')).bytes.toString()).toBe('dropped on the chat');

    // A name is the sender's to choose: shown as text, never as markup, and saved made safe.
    const hostile = '<img src=x onerror="window.pwned=1">..\\..\\.bashrc';
    await alice.page.evaluate((name) => {
      const transfer = new DataTransfer();
      transfer.items.add(new File(['#'], name, { type: 'application/octet-stream' }));
      const chat = document.querySelector('section.chat')!;
      for (const type of ['dragenter', 'dragover', 'drop'])
        chat.dispatchEvent(new DragEvent(type, { dataTransfer: transfer, bubbles: true, cancelable: true }));
    }, hostile);
    await waitForFileState(bob.page, 'in', hostile, 'offered');
    await fileCard(bob.page, 'in', hostile).getByTestId('file-accept').click();
    await waitForFileState(bob.page, 'in', hostile, 'done');
    const saved = await download(bob.page, hostile);
    expect(saved.savedAs).toBe(safeFileName(hostile));
    expect(saved.savedAs).not.toMatch(/[/\\<>"]|^\./);
    expect(await bob.page.locator('[data-testid="file-name"] img').count()).toBe(0);
    expect(await bob.page.evaluate(() => (window as { pwned?: number }).pwned)).toBeUndefined();
  });

  it('either side can cancel: the sender mid-transfer, the receiver by declining or mid-transfer', async () => {
    const [alice, bob] = await securePair();
    const big = randomBytes(12 * MiB); // long enough at the relay's 8 MiB/s to be cancelled mid-way
    await alice.page
      .getByTestId('file-input')
      .setInputFiles([
        onDisk('first.bin', big),
        onDisk('second.bin', big),
        onDisk('third.bin', randomBytes(1000)),
      ]);
    await waitForFileState(bob.page, 'in', 'third.bin', 'offered');
    await fileCard(bob.page, 'in', 'third.bin').getByTestId('file-decline').click();
    await waitForFileState(alice.page, 'out', 'third.bin', 'cancelled');
    await expect.poll(() => fileCard(alice.page, 'out', 'third.bin').textContent()).toContain('declined');

    await fileCard(bob.page, 'in', 'first.bin').getByTestId('file-accept').click();
    await fileCard(bob.page, 'in', 'first.bin').getByTestId('file-progress').waitFor();
    await fileCard(alice.page, 'out', 'first.bin').getByTestId('file-cancel').click();
    await waitForFileState(bob.page, 'in', 'first.bin', 'cancelled');
    await waitForFileState(alice.page, 'out', 'first.bin', 'cancelled');

    await fileCard(bob.page, 'in', 'second.bin').getByTestId('file-accept').click();
    await fileCard(bob.page, 'in', 'second.bin').getByTestId('file-progress').waitFor();
    await fileCard(bob.page, 'in', 'second.bin').getByTestId('file-cancel').click();
    await waitForFileState(alice.page, 'out', 'second.bin', 'cancelled');
    await waitForFileState(bob.page, 'in', 'second.bin', 'cancelled');
    expect(await bob.page.getByTestId('file-download').count()).toBe(0);
  });

  it('a link cut mid-transfer: the page reconnects and the file resumes and completes, byte for byte', async () => {
    let current: { client: WebSocketRoute; server: WebSocketRoute } | undefined;
    const [alice, bob] = await securePair(async (page) => {
      await page.routeWebSocket(/\/ws$/, (client) => {
        const server = client.connectToServer();
        current = { client, server };
        client.onMessage((message) => server.send(message));
        server.onMessage((message) => client.send(message));
      });
    });
    const content = randomBytes(8 * MiB);
    await alice.page.getByTestId('file-input').setInputFiles(onDisk('resumed.bin', content));
    await fileCard(bob.page, 'in', 'resumed.bin').getByTestId('file-accept').click();
    // Cut Bob's link once a good part has arrived.
    await bob.page.waitForFunction(() => {
      const bar = document.querySelector(
        '[data-testid="file"][data-direction="in"] progress',
      ) as HTMLProgressElement | null;
      return bar !== null && bar.value > 2 * 1024 * 1024;
    });
    void current?.server.close({ code: 4000, reason: 'link dropped' });
    void current?.client.close({ code: 4000, reason: 'link dropped' });
    await waitForState(bob.page, 'reconnecting');
    await waitForState(bob.page, 'ready');
    await waitForFileState(bob.page, 'in', 'resumed.bin', 'done');
    await waitForFileState(alice.page, 'out', 'resumed.bin', 'done');
    expect(sha256((await download(bob.page, 'resumed.bin')).bytes)).toBe(sha256(content));
  });

  it('a chunk altered in flight is refused as tampered; it is sent again and the file still arrives whole', async () => {
    let tamperNext = false;
    const [alice, bob] = await securePair(async (page) => {
      await page.routeWebSocket(/\/ws$/, (client) => {
        const server = client.connectToServer();
        client.onMessage((message) => server.send(message));
        server.onMessage((message) => {
          // A chunk is the only frame this large: flip one bit in its ciphertext.
          if (tamperNext && typeof message !== 'string' && message.length > 60_000) {
            tamperNext = false;
            const altered = Buffer.from(message);
            altered[1000]! ^= 0x01;
            client.send(altered);
          } else {
            client.send(message);
          }
        });
      });
    });
    const content = randomBytes(2 * MiB);
    tamperNext = true;
    await alice.page.getByTestId('file-input').setInputFiles(onDisk('guarded.bin', content));
    await fileCard(bob.page, 'in', 'guarded.bin').getByTestId('file-accept').click();
    await waitForError(bob.page, 'tampered');
    await waitForFileState(bob.page, 'in', 'guarded.bin', 'done');
    expect(tamperNext).toBe(false);
    expect(sha256((await download(bob.page, 'guarded.bin')).bytes)).toBe(sha256(content));
  });

  it('a file over the limit is refused before anything is sent, and said so', async () => {
    const [alice, bob] = await securePair();
    await alice.page.evaluate(() => {
      const input = document.querySelector('[data-testid="file-input"]') as HTMLInputElement;
      const huge = new File([new Uint8Array(1)], 'holiday.mkv', { type: 'video/x-matroska' });
      Object.defineProperty(huge, 'size', { value: 3 * 1024 ** 3 }); // 3 GiB, without 3 GiB
      const transfer = new DataTransfer();
      transfer.items.add(huge);
      input.files = transfer.files;
      input.dispatchEvent(new Event('change', { bubbles: true }));
    });
    const notice = alice.page.getByTestId('file-notice');
    await notice.waitFor();
    expect(await notice.getAttribute('data-code')).toBe('too-large');
    expect(await notice.textContent()).toContain('2.00 GiB');
    expect(await alice.page.getByTestId('file').count()).toBe(0);
    await sendMessage(alice.page, 'nothing else went out');
    await waitForMessage(bob.page, 'in', 'nothing else went out');
    expect(await bob.page.getByTestId('file').count()).toBe(0);
  });
});

const PHONE = { width: 390, height: 844 };
const DESKTOP = { width: 1280, height: 800 };

/** axe (WCAG 2.1 A/AA) on a page, light and dark, at its own viewport: the rules that failed, with where. */
async function axeFindings(page: Page, where: string): Promise<string[]> {
  const findings: string[] = [];
  for (const colorScheme of ['light', 'dark'] as const) {
    await page.emulateMedia({ colorScheme });
    const result = await axeScan(page);
    for (const violation of result.violations)
      findings.push(
        `${where} ${colorScheme}: ${violation.id} ${violation.nodes.map((n) => n.target.join(' ')).join(', ')}`,
      );
  }
  await page.emulateMedia({ colorScheme: 'light' });
  return findings;
}

const noSideScroll = (page: Page) =>
  page.evaluate(() => document.documentElement.scrollWidth <= document.documentElement.clientWidth);

/** What sticks out of its file card, sideways (a progress line too long for a phone, say). */
const outsideCards = (page: Page) =>
  page.evaluate(() =>
    Array.from(document.querySelectorAll('[data-testid="file"]')).flatMap((card) => {
      const box = card.getBoundingClientRect();
      return Array.from(card.querySelectorAll('*'))
        .filter((element) => {
          const inner = element.getBoundingClientRect();
          return inner.width > 0 && (inner.right > box.right + 0.5 || inner.left < box.left - 0.5);
        })
        .map((element) => `${element.tagName.toLowerCase()}.${element.className}`);
    }),
  );

describe('files on a phone (390×844, touch)', () => {
  it('tap the file button, pick, the partner accepts, progress, download byte for byte; decline and cancel; too large; every card state passes axe', async () => {
    // Bob's incoming frames can be held back (and then let through, in order), so that a
    // transfer stays in progress for as long as the checks need.
    let holding = false;
    const held: (string | Buffer)[] = [];
    let toBob: ((message: string | Buffer) => void) | undefined;
    const phone = { viewport: PHONE, hasTouch: true, isMobile: true };
    const alice = await openPage(harness(), '', phone);
    const { link, passphrase } = await startConversation(alice.page);
    const bob = await openPage(harness(), new URL(link).hash, phone);
    await bob.page.routeWebSocket(/\/ws$/, (client) => {
      const server = client.connectToServer();
      toBob = (message) => client.send(message);
      client.onMessage((message) => server.send(message));
      server.onMessage((message) => (holding ? held.push(message) : client.send(message)));
    });
    await bob.page.reload();
    await bob.page.getByTestId('passphrase-input').fill(passphrase);
    await bob.page.getByTestId('join-button').tap();
    await Promise.all([waitForState(alice.page, 'ready'), waitForState(bob.page, 'ready')]);
    const findings: string[] = [];

    // The paper-clip button opens the system's file picker.
    const content = randomBytes(6 * MiB);
    const [chooser] = await Promise.all([
      alice.page.waitForEvent('filechooser'),
      alice.page.locator('label.attach').tap(), // a paper clip beside the composer
    ]);
    expect(chooser.isMultiple()).toBe(true);
    await chooser.setFiles([
      onDisk('Holiday plan (final).pdf', content),
      onDisk('unwanted.bin', randomBytes(100)),
    ]);
    await waitForFileState(bob.page, 'in', 'Holiday plan (final).pdf', 'offered');
    await waitForFileState(bob.page, 'in', 'unwanted.bin', 'offered');
    const accept = fileCard(bob.page, 'in', 'Holiday plan (final).pdf').getByTestId('file-accept');
    expect(await accept.isVisible()).toBe(true);
    findings.push(
      ...(await axeFindings(bob.page, 'offered (in)')),
      ...(await axeFindings(alice.page, 'offered (out)')),
    );

    await fileCard(bob.page, 'in', 'unwanted.bin').getByTestId('file-decline').tap();
    await waitForFileState(alice.page, 'out', 'unwanted.bin', 'cancelled');

    await accept.tap();
    await bob.page.waitForFunction(() => {
      const bar = document.querySelector(
        '[data-testid="file"][data-direction="in"] progress',
      ) as HTMLProgressElement | null;
      const line = document.querySelector(
        '[data-testid="file"][data-direction="in"] [data-testid="file-progress"]',
      );
      return bar !== null && bar.value > 1024 * 1024 && line?.textContent?.includes('left') === true;
    });
    holding = true;
    await waitForFileState(alice.page, 'out', 'Holiday plan (final).pdf', 'transferring');
    findings.push(
      ...(await axeFindings(bob.page, 'transferring (in)')),
      ...(await axeFindings(alice.page, 'transferring (out)')),
    );
    for (const page of [alice.page, bob.page]) {
      expect(await noSideScroll(page)).toBe(true);
      expect(await outsideCards(page)).toEqual([]);
    }
    holding = false;
    for (const message of held.splice(0)) toBob?.(message);

    await waitForFileState(bob.page, 'in', 'Holiday plan (final).pdf', 'done');
    await waitForFileState(alice.page, 'out', 'Holiday plan (final).pdf', 'done');
    const link_ = fileCard(bob.page, 'in', 'Holiday plan (final).pdf').getByTestId('file-download');
    const box = await link_.boundingBox();
    expect(box !== null && box.height >= 24 && box.x + box.width <= PHONE.width).toBe(true);
    const { bytes, savedAs } = await download(bob.page, 'Holiday plan (final).pdf');
    expect(savedAs).toBe('Holiday plan (final).pdf');
    expect(sha256(bytes)).toBe(sha256(content));

    // The receiver cancels one mid-transfer (held back again, so that it is still going).
    await alice.page.getByTestId('file-input').setInputFiles(onDisk('long.mov', randomBytes(12 * MiB)));
    await fileCard(bob.page, 'in', 'long.mov').getByTestId('file-accept').tap();
    await fileCard(bob.page, 'in', 'long.mov').getByTestId('file-progress').waitFor();
    holding = true;
    await fileCard(bob.page, 'in', 'long.mov').getByTestId('file-cancel').tap();
    await waitForFileState(bob.page, 'in', 'long.mov', 'cancelled');
    holding = false;
    for (const message of held.splice(0)) toBob?.(message);
    await waitForFileState(alice.page, 'out', 'long.mov', 'cancelled');

    // Too large: said at once, nothing sent.
    await alice.page.evaluate(() => {
      const input = document.querySelector('[data-testid="file-input"]') as HTMLInputElement;
      const huge = new File([new Uint8Array(1)], 'whole-phone-backup.zip', { type: 'application/zip' });
      Object.defineProperty(huge, 'size', { value: 3 * 1024 ** 3 });
      const transfer = new DataTransfer();
      transfer.items.add(huge);
      input.files = transfer.files;
      input.dispatchEvent(new Event('change', { bubbles: true }));
    });
    const notice = alice.page.getByTestId('file-notice');
    await notice.waitFor();
    expect(await notice.getAttribute('data-code')).toBe('too-large');
    expect(await notice.isVisible()).toBe(true);
    // done, declined, cancelled and the notice, on both sides.
    findings.push(
      ...(await axeFindings(bob.page, 'ended (in)')),
      ...(await axeFindings(alice.page, 'ended (out)')),
    );
    for (const page of [alice.page, bob.page]) {
      expect(await noSideScroll(page)).toBe(true);
      expect(await outsideCards(page)).toEqual([]);
    }
    expect(await bob.page.getByTestId('file').count()).toBe(3);
    expect(findings).toEqual([]);
    expect([...alice.pageErrors, ...bob.pageErrors]).toEqual([]);
  });
});

describe('files and des', () => {
  it('des shows no file button, and says why where it would be', async () => {
    const alice = await openPage(harness());
    const { link, passphrase } = await startConversation(alice.page, 'des');
    const bob = await joinByLink(harness(), link, passphrase);
    await Promise.all([waitForState(alice.page, 'ready'), waitForState(bob.page, 'ready')]);
    for (const page of [alice.page, bob.page]) {
      expect(await page.getByTestId('file-input').count()).toBe(0);
      for (const viewport of [DESKTOP, PHONE]) {
        await page.setViewportSize(viewport);
        const why = page.getByTestId('files-unavailable');
        expect(await why.textContent()).toContain('des cannot send files');
        expect(await why.isVisible()).toBe(true);
      }
    }
  });
});
