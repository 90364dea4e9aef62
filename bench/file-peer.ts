/**
 * One side of a file transfer, in its own process, so that its memory is its own:
 *   node --expose-gc --import tsx file-peer.ts <role> <json options>
 * Roles:
 *   duet-send / duet-receive    core's file transfer between two Node clients (node-client.ts),
 *                               through a Duet relay, the file streamed from and to disk (started
 *                               with the `duet` command's Node options: workloads/files.ts);
 *   plain-send / plain-receive  the same bytes as a bare `ws` binary stream (64 KiB frames, sent
 *                               as fast as the socket takes them), written to disk as they come:
 *                               through the minimal ws relay, or through Duet's relay (`join`, then
 *                               raw binary frames: no crypto, no file protocol).
 * Protocol with the parent (IPC): the child says `ready` once connected (and, for Duet, once the
 * channel is secure); the parent says `go` to the sender; the receiver says `done` once the file
 * is complete on disk. Each side then reports its memory: RSS when ready (after a full GC) and
 * the highest RSS seen until done, sampled every 10 ms and at the end; and the CPU time it spent
 * over the same span (user + system, all threads: what the transfer costs this process).
 */
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import WebSocket from 'ws';
import { startNodeClient } from '@duet/cli/node-client';
import { diskSource } from '@duet/cli/node-files';
import { tuneTierUp } from '@duet/cli/node-options';

export type PeerRole = 'duet-send' | 'duet-receive' | 'plain-send' | 'plain-receive';

export interface PeerOptions {
  /** ws://127.0.0.1:<port>/ws for Duet; ws://127.0.0.1:<port>/ for the minimal relay. */
  url: string;
  /** Which relay `url` is: a plain stream pairs through it in its own way. */
  relay: 'minimal' | 'duet';
  room: string;
  /** The file to send, or the folder to receive into. */
  path: string;
  size: number;
}

export type PeerMessage =
  | { type: 'ready' }
  | { type: 'done'; path?: string }
  | { type: 'memory'; readyRss: number; peakRss: number; cpuMs: number }
  | { type: 'failed'; error: string };

const FRAME_BYTES = 64 * 1024;

function send(message: PeerMessage): void {
  process.send?.(message);
}

/** RSS after a full collection: the baseline the transfer's growth is measured from. */
function settledRss(): number {
  const gc = (globalThis as { gc?: () => void }).gc;
  gc?.();
  gc?.();
  return process.memoryUsage.rss();
}

/** Samples RSS every 10 ms from now on; `stop` returns the highest seen and the CPU time spent since. */
function watchPeak(): () => { peakRss: number; cpuMs: number } {
  let peak = process.memoryUsage.rss();
  const cpu = process.cpuUsage();
  const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage.rss())), 10);
  return () => {
    clearInterval(timer);
    const spent = process.cpuUsage(cpu);
    return { peakRss: Math.max(peak, process.memoryUsage.rss()), cpuMs: (spent.user + spent.system) / 1000 };
  };
}

const go = (): Promise<unknown> =>
  new Promise((resolve) =>
    process.once('message', (message: { type: string }) => message.type === 'go' && resolve(message)),
  );

async function duetSend(options: PeerOptions): Promise<void> {
  const client = await startNodeClient({
    url: options.url,
    room: options.room,
    passphrase: 'bench passphrase',
    files: { dir: join(options.path, '..') },
  });
  await until(() => client.conversation.status === 'ready');
  const readyRss = settledRss();
  send({ type: 'ready' });
  await go();
  const peak = watchPeak();
  const source = await diskSource(options.path);
  const id = client.files!.send(source, { name: 'bench.bin', mime: 'application/octet-stream' });
  await until(() => ['done', 'failed', 'cancelled'].includes(client.fileViews.get(id)?.state ?? ''));
  const view = client.fileViews.get(id);
  if (view?.state !== 'done') throw new Error(`the transfer ended ${view?.state} (${view?.code})`);
  send({ type: 'memory', readyRss, ...peak() });
  await source.close();
  client.conversation.leave();
}

async function duetReceive(options: PeerOptions): Promise<void> {
  const client = await startNodeClient({
    url: options.url,
    room: options.room,
    passphrase: 'bench passphrase',
    files: { dir: options.path, accept: 'all', maxFileBytes: options.size },
  });
  await until(() => client.conversation.status === 'ready');
  const readyRss = settledRss();
  const peak = watchPeak();
  send({ type: 'ready' });
  await until(() =>
    [...client.fileViews.values()].some(
      (v) => v.direction === 'in' && v.state !== 'offered' && v.state !== 'transferring',
    ),
  );
  const view = [...client.fileViews.values()].find((v) => v.direction === 'in');
  if (view?.state !== 'done') throw new Error(`the transfer ended ${view?.state} (${view?.code})`);
  send({ type: 'done', path: view.result });
  send({ type: 'memory', readyRss, ...peak() });
  // No leave here: `done` may still be on its way to the sender. The parent ends this process.
}

/** Connects and waits until paired: `paired` from the minimal relay, a partner from Duet's. */
async function plainConnect(options: PeerOptions): Promise<WebSocket> {
  const minimal = options.relay === 'minimal';
  const url = minimal ? `${options.url}?room=${options.room}` : options.url;
  const socket = new WebSocket(url, { perMessageDeflate: false });
  socket.binaryType = 'nodebuffer';
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.once('open', () => {
      if (!minimal) socket.send(JSON.stringify({ type: 'join', room: options.room, suite: 'modern' }));
    });
    socket.on('message', (data, isBinary) => {
      if (isBinary) return;
      const text = data.toString();
      if (minimal ? text === 'paired' : isPaired(text)) resolve();
    });
  });
  return socket;
}

function isPaired(text: string): boolean {
  const message = JSON.parse(text) as { type: string; partner?: boolean };
  return message.type === 'partner-joined' || (message.type === 'joined' && message.partner === true);
}

async function plainSend(options: PeerOptions): Promise<void> {
  const socket = await plainConnect(options);
  const readyRss = settledRss();
  send({ type: 'ready' });
  await go();
  const peak = watchPeak();
  const file = await open(options.path, 'r');
  for (let offset = 0; offset < options.size; offset += FRAME_BYTES) {
    const buffer = Buffer.allocUnsafe(Math.min(FRAME_BYTES, options.size - offset));
    await file.read(buffer, 0, buffer.length, offset);
    // As fast as the socket takes it: wait only when 1 MiB is queued in it.
    if (socket.bufferedAmount > 1024 * 1024) await new Promise((resolve) => socket.send(buffer, resolve));
    else socket.send(buffer);
  }
  await file.close();
  send({ type: 'memory', readyRss, ...peak() });
  await new Promise((resolve) => process.once('message', resolve)); // the parent says when to close
  socket.close();
}

async function plainReceive(options: PeerOptions): Promise<void> {
  const socket = await plainConnect(options);
  const path = join(options.path, 'bench.bin');
  // A deep buffer: the stream has no end-to-end flow control, and a receiver that paused its
  // socket at every disk hiccup would be dropped by Duet's relay as a slow reader (1013).
  const out = createWriteStream(path, { highWaterMark: 8 * 1024 * 1024 });
  const readyRss = settledRss();
  const peak = watchPeak();
  send({ type: 'ready' });
  let received = 0;
  await new Promise<void>((resolve) => {
    socket.on('message', (data: Buffer, isBinary) => {
      if (!isBinary) return;
      received += data.length;
      // Bounded memory: stop reading the socket while the disk catches up.
      if (!out.write(data)) {
        socket.pause();
        out.once('drain', () => socket.resume());
      }
      if (received >= options.size) resolve();
    });
  });
  out.end();
  await once(out, 'finish');
  send({ type: 'done', path });
  send({ type: 'memory', readyRss, ...peak() });
  socket.close();
}

/** Resolves when `predicate` holds (checked every 5 ms); the parent's timeout bounds it. */
function until(predicate: () => boolean): Promise<void> {
  return new Promise((resolve) => {
    const check = () => (predicate() ? resolve() : setTimeout(check, 5));
    check();
  });
}

const ROLES: Record<PeerRole, (options: PeerOptions) => Promise<void>> = {
  'duet-send': duetSend,
  'duet-receive': duetReceive,
  'plain-send': plainSend,
  'plain-receive': plainReceive,
};

async function main(): Promise<void> {
  const role = process.argv[2] as PeerRole;
  const run = ROLES[role];
  if (!run || !process.send) throw new Error('usage: file-peer.ts <role> <options> (with an IPC channel)');
  process.on('disconnect', () => process.exit(0)); // the bench went away: never linger
  // The Duet peers are terminal clients, tuned as the `duet` command tunes itself at start.
  if (role.startsWith('duet')) tuneTierUp();
  await run(JSON.parse(process.argv[3] ?? '{}') as PeerOptions);
}

main().catch((error: unknown) => {
  send({ type: 'failed', error: error instanceof Error ? error.message : String(error) });
  process.exit(1);
});
