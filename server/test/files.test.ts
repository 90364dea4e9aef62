/**
 * Files end to end through a real relay: two Node clients (core's Conversation and file
 * transfer, `modern` channels, files streamed from and to disk), byte for byte, with chat
 * flowing during a transfer and links cut mid-transfer.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, onTestFinished, vi } from 'vitest';
import type { FileView } from '@duet/core/session/file-transfer';
import { startNodeClient, type NodeClient } from '@duet/cli/node-client';
import { diskSource } from '@duet/cli/node-files';
import { startServer, type RunningServer } from '../src/server.ts';
import { startFaultProxy, type FaultProxy } from './support/fault-proxy.ts';

let server: RunningServer;
const clients: NodeClient[] = [];
beforeAll(async () => {
  server = await startServer({ port: 0, host: '127.0.0.1', staticDir: '/nonexistent', handshakeBurst: 50 });
});
afterEach(() => {
  for (const client of clients.splice(0)) client.conversation.leave();
});
afterAll(async () => {
  await server?.close();
});

const wsUrl = () => `${server.url.replace('http', 'ws')}/ws`;
const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');
const tempDir = () => mkdtempSync(join(tmpdir(), 'duet-files-'));
/** Where each client saves what it receives. */
const inbox = new Map<NodeClient, string>();

async function twoClients(url: string, room: string, suite: 'modern' | 'des' = 'modern') {
  const make = async () => {
    const dir = tempDir();
    const client = await startNodeClient({
      url,
      room,
      passphrase: 'files passphrase',
      suite,
      reconnectDelaysMs: [50],
      files: { dir, accept: 'all' },
    });
    clients.push(client);
    inbox.set(client, dir);
    return client;
  };
  const [a, b] = [await make(), await make()];
  await vi.waitFor(() => expect([a.conversation.status, b.conversation.status]).toEqual(['ready', 'ready']), {
    timeout: 10_000,
  });
  return [a, b] as const;
}

/** Writes `bytes` to a temporary file and offers it from `client`. */
async function sendBytes(
  client: NodeClient,
  bytes: Uint8Array,
  name: string,
  mime = 'application/octet-stream',
) {
  const path = join(tempDir(), name);
  writeFileSync(path, bytes);
  const source = await diskSource(path);
  onTestFinished(() => source.close()); // not left for the collector to close
  return client.files!.send(source, { name, mime });
}

async function finished(client: NodeClient, id: string, timeout = 15_000): Promise<FileView<string>> {
  await vi.waitFor(() => expect(['done', 'failed', 'cancelled']).toContain(client.fileViews.get(id)?.state), {
    timeout,
    interval: 20,
  });
  return client.fileViews.get(id)!;
}

describe('files through the relay', () => {
  it('files of 0 B, 1 B and 3 MiB arrive byte for byte, each way, written to disk under their names', async () => {
    const [a, b] = await twoClients(wsUrl(), 'files-room');
    const contents = [new Uint8Array(0), Uint8Array.of(42), randomBytes(3 * 1024 * 1024)];
    const ids = [];
    for (const [index, bytes] of contents.entries()) ids.push(await sendBytes(a, bytes, `file-${index}.bin`));
    const back = await sendBytes(b, randomBytes(100_000), 'back.png', 'image/png');
    for (const [index, id] of ids.entries()) {
      const view = await finished(b, id);
      expect(view.state).toBe('done');
      expect(view.result).toMatch(new RegExp(`file-${index}\\.bin$`));
      expect(sha256(readFileSync(view.result!))).toBe(sha256(contents[index]!));
      expect((await finished(a, id)).state).toBe('done');
    }
    const image = await finished(a, back);
    expect(image.state).toBe('done');
    expect(readFileSync(image.result!)).toHaveLength(100_000);
  });

  it('chat flows while a file is on its way: a message sent after the file starts is delivered before it ends', async () => {
    const [a, b] = await twoClients(wsUrl(), 'chat-during-file');
    const id = await sendBytes(a, randomBytes(8 * 1024 * 1024), 'big.bin');
    await vi.waitFor(() => expect(b.fileViews.get(id)?.bytes).toBeGreaterThan(0), { interval: 10 });
    a.conversation.send('still here?');
    await vi.waitFor(() => expect(b.received).toEqual(['still here?']), { interval: 5 });
    expect(b.fileViews.get(id)?.state).toBe('transferring');
    expect((await finished(b, id)).state).toBe('done');
  });

  it('a cancelled transfer leaves no file, and no partial file, on the receiver’s disk', async () => {
    const [a, b] = await twoClients(wsUrl(), 'cancel-room');
    const id = await sendBytes(a, randomBytes(6 * 1024 * 1024), 'cancelled.bin');
    await vi.waitFor(() => expect(b.fileViews.get(id)?.bytes).toBeGreaterThan(0), { interval: 10 });
    expect(readdirSync(inbox.get(b)!)).toHaveLength(1); // the .part file
    b.files!.cancel(id);
    expect((await finished(a, id)).state).toBe('cancelled');
    await b.files!.settled();
    expect(b.fileViews.get(id)).toMatchObject({ state: 'cancelled', result: undefined });
    expect(readdirSync(inbox.get(b)!)).toEqual([]);
  });

  it('des offers no files', async () => {
    const [a] = await twoClients(wsUrl(), 'des-files', 'des');
    expect(a.files!.supported).toBe(false);
    await expect(sendBytes(a, Uint8Array.of(1), 'x')).rejects.toMatchObject({ code: 'files-unsupported' });
  });
});

describe('files through a failing network', () => {
  let proxy: FaultProxy;
  beforeAll(async () => {
    proxy = await startFaultProxy({
      targetPort: server.port,
      seed: Number(process.env.FAULT_SEED ?? 20261130),
      maxCuts: 6,
      cutAfterBytes: [300_000, 1_500_000],
    });
  });
  afterAll(async () => {
    await proxy?.close();
  });

  it('links cut mid-transfer: the file resumes from the confirmed chunk and arrives byte for byte', async () => {
    const [a, b] = await twoClients(proxy.url, 'cut-room');
    const bytes = randomBytes(6 * 1024 * 1024);
    const id = await sendBytes(a, bytes, 'resumed.bin');
    const view = await finished(b, id, 60_000);
    expect(proxy.cuts()).toBeGreaterThan(0);
    expect(view.state).toBe('done');
    expect(sha256(readFileSync(view.result!))).toBe(sha256(bytes));
    expect((await finished(a, id)).state).toBe('done');
  });
});
