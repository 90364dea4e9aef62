/**
 * The original design's Python client in a room with a browser: alice.py, run unchanged as its
 * listing says, against Duet's seed gateway, and Chromium on the other side. Plus the original's
 * own message_encrypt and message_decrypt on the frames.
 */
import { connect } from 'node:net';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import {
  describeWithSeedPython,
  SEED_SALT_HEX,
  SeedClient,
  SeedCrypto,
} from '../server/test/support/seed-python.ts';
import {
  joinRoom,
  messageTexts,
  openPage,
  sendMessage,
  useHarness,
  waitForError,
  waitForMessage,
  waitForState,
  type OpenedPage,
} from './harness.ts';

const ROOM = `seed-${Math.random().toString(36).slice(2, 10)}`;
const harness = useHarness({ seedGateway: '127.0.0.1:0', seedGatewayRoom: ROOM, logLevel: 'silent' });
const TEXTS = ['plain ASCII, 1 2 3', 'accents: naïve café, Ærøskøbing, żółć', 'emoji: 🙂🚀 and 👩🏽‍💻'];

const pythons: SeedClient[] = [];
afterEach(() => {
  for (const python of pythons.splice(0)) python.kill();
});

function gatewayPort(): number {
  const port = harness().server.seedGateway?.port;
  if (port === undefined) throw new Error('the seed gateway is not running');
  return port;
}

async function alicePy(passphrase = 'pass'): Promise<SeedClient> {
  const alice = new SeedClient('alice.py', { port: gatewayPort(), passphrase });
  pythons.push(alice);
  await alice.started();
  return alice;
}

/** A browser page in the gateway's room, with the original's passphrase and salt. */
async function browser(): Promise<OpenedPage> {
  const bob = await openPage(harness());
  await joinRoom(bob.page, { room: ROOM, passphrase: 'pass', suite: 'des', salt: SEED_SALT_HEX });
  return bob;
}

async function leave(page: OpenedPage): Promise<void> {
  await page.page.getByTestId('leave-button').click();
  await page.page.context().close();
}

describeWithSeedPython('the original Python client with a browser', () => {
  let seed: SeedCrypto;
  beforeAll(() => {
    seed = new SeedCrypto();
  });
  afterAll(() => seed.close());

  it('alice.py and a browser page chat both ways; every message exact; every browser frame opens with message_decrypt', async () => {
    const alice = await alicePy();
    const bob = await browser();
    await waitForState(bob.page, 'ready');
    for (const text of TEXTS) {
      await sendMessage(bob.page, text);
      expect(await alice.nextPlaintext()).toBe(text);
      alice.type(`re: ${text}`);
      await waitForMessage(bob.page, 'in', `re: ${text}`);
    }
    expect(await messageTexts(bob.page, 'in')).toEqual(TEXTS.map((text) => `re: ${text}`));
    expect(await messageTexts(bob.page, 'out')).toEqual(TEXTS);

    // What the browser put on the wire, opened by the original's own message_decrypt.
    const sent = bob.frameLog.sent.filter((frame): frame is Buffer => typeof frame !== 'string');
    const opened = await Promise.all(sent.map((frame) => seed.decrypt('pass', SEED_SALT_HEX, frame)));
    expect(opened).toEqual(TEXTS.map((text) => ({ text })));
    expect(bob.pageErrors).toEqual([]);
    await leave(bob);
  });

  it('a frame made by the original’s message_encrypt is shown in the browser', async () => {
    const bob = await browser();
    await waitForState(bob.page, 'waiting');
    // Written on the gateway's TCP port exactly as the original client sends it.
    const socket = connect({ host: '127.0.0.1', port: gatewayPort() });
    await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
    await waitForState(bob.page, 'ready');
    socket.write(await seed.encrypt('pass', SEED_SALT_HEX, 'made by message_encrypt, ça va 🙂'));
    await waitForMessage(bob.page, 'in', 'made by message_encrypt, ça va 🙂');
    socket.destroy();
    await leave(bob);
  });

  it('a wrong passphrase on the Python side: alice.py prints its padding error and disconnects; the browser shows decrypt-failed and stays usable', async () => {
    const mallory = await alicePy('not the passphrase');
    const bob = await browser();
    await waitForState(bob.page, 'ready');

    mallory.type('can you read me?');
    await waitForError(bob.page, 'decrypt-failed');
    expect(await messageTexts(bob.page, 'in')).toEqual([]);

    await sendMessage(bob.page, 'hello?');
    // The original's own words (a wrong key fails the padding length check, or, about one frame
    // in 16, the padding bytes check, pycryptodome's "PKCS#7 padding is incorrect.", or, once in
    // a few hundred frames, the UTF-8 decoding after it).
    const { index } = await mallory.waitFor(
      /^decryption error: ((PKCS#7 p|P)adding is incorrect\.|'utf-8' codec)/,
    );
    await mallory.waitFor(/^Will disconnect user$/, index);
    mallory.endInput();
    expect(await mallory.exited).toBe(0);
    await waitForState(bob.page, 'waiting');

    // The page goes on: the right passphrase in the freed seat, and the chat works.
    const alice = await alicePy();
    await waitForState(bob.page, 'ready');
    await sendMessage(bob.page, 'still here');
    expect(await alice.nextPlaintext()).toBe('still here');
    alice.type('so am I');
    await waitForMessage(bob.page, 'in', 'so am I');
    await leave(bob);
  });
});
