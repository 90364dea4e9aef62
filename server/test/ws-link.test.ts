import { EventEmitter } from 'node:events';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { WebSocket, WebSocketServer } from 'ws';
import type { Link, LinkEvents } from '../src/relay/link.ts';
import { attachWebSocket } from '../src/relay/ws-link.ts';

interface Read {
  data: string;
  isBinary: boolean;
  alone: boolean | undefined;
}

/** What a `ws` server hands the relay through ws-link.ts, frame by frame. */
function recordingEvents(reads: Read[]): LinkEvents {
  return {
    message: (data, isBinary, alone) => void reads.push({ data: data.toString(), isBinary, alone }),
    pong: () => undefined,
    violation: () => undefined,
    closed: () => undefined,
  };
}

const servers: WebSocketServer[] = [];
const clients: WebSocket[] = [];

afterEach(async () => {
  for (const client of clients.splice(0)) client.terminate();
  await Promise.all(servers.splice(0).map((server) => new Promise((resolve) => server.close(resolve))));
});

async function connected(reads: Read[]): Promise<WebSocket> {
  const server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  servers.push(server);
  server.on('connection', (socket) => attachWebSocket(socket, () => recordingEvents(reads)));
  await new Promise((resolve) => server.once('listening', resolve));
  const client = new WebSocket(`ws://127.0.0.1:${(server.address() as AddressInfo).port}`);
  clients.push(client);
  await new Promise((resolve, reject) => {
    client.once('open', resolve);
    client.once('error', reject);
  });
  return client;
}

describe('ws-link: whether a frame was read alone', () => {
  it('a lone frame is alone; of frames read together, only the last is', async () => {
    const reads: Read[] = [];
    const client = await connected(reads);
    client.send(Buffer.from('one'), { binary: true });
    await vi.waitFor(() => expect(reads).toHaveLength(1));
    expect(reads[0]).toEqual({ data: 'one', isBinary: true, alone: true });

    // Three frames in one write of the client's: the relay reads them in one callback.
    const raw = (client as unknown as { _socket: { cork(): void; uncork(): void } })._socket;
    raw.cork();
    client.send(Buffer.from('a'), { binary: true });
    client.send('{"type":"leave"}');
    client.send(Buffer.from('c'), { binary: true });
    raw.uncork();
    await vi.waitFor(() => expect(reads).toHaveLength(4));
    expect(reads.slice(1)).toEqual([
      { data: 'a', isBinary: true, alone: false },
      { data: '{"type":"leave"}', isBinary: false, alone: false },
      { data: 'c', isBinary: true, alone: true },
    ]);
  });

  it('takes a frame for one of several when ws no longer shows what it holds', () => {
    // A WebSocket whose private receiver and socket are gone (another ws version): batching as
    // before, and corking does nothing, so writes go out one by one.
    const socket = Object.assign(new EventEmitter(), { readyState: WebSocket.OPEN });
    const reads: Read[] = [];
    let link: Link | undefined;
    attachWebSocket(socket as unknown as WebSocket, (attached) => {
      link = attached;
      return recordingEvents(reads);
    });
    socket.emit('message', Buffer.from('x'), true);
    expect(reads).toEqual([{ data: 'x', isBinary: true, alone: false }]);
    expect(() => {
      link?.cork?.();
      link?.uncork?.();
    }).not.toThrow();
  });
});

describe('ws-link: the cost of a connection', () => {
  it('makes no functions per connection: links share their methods', () => {
    // Per-connection closures cost about 4 KiB of heap per idle connection under tsx
    // (ws-link.ts says why); methods on the prototype cost nothing per connection.
    const links: Link[] = [];
    for (let i = 0; i < 2; i++) {
      const socket = Object.assign(new EventEmitter(), { readyState: WebSocket.OPEN });
      attachWebSocket(socket as unknown as WebSocket, (link) => {
        links.push(link);
        return recordingEvents([]);
      });
    }
    const [a, b] = links as [Link, Link];
    for (const name of [
      'sendControl',
      'sendBinary',
      'close',
      'terminate',
      'ping',
      'pause',
      'resume',
      'cork',
      'uncork',
    ] as const) {
      expect(typeof a[name]).toBe('function');
      expect(a[name]).toBe(b[name]);
    }
    expect(Object.keys(a)).toEqual([]);
  });
});
