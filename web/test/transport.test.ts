/**
 * The browser transport against a fake WebSocket: the first connection takes over the socket the
 * page opened as the join began (open or still opening), a closed one is left for a new socket,
 * and later connections (reconnects) always open their own. The real thing runs in e2e/.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { LinkHandlers } from '@duet/core/session/conversation';
import { openEarlySocket } from '../src/lib/early-socket.ts';
import { browserConnect } from '../src/lib/transport.ts';

const URL_ = 'ws://127.0.0.1:8080/ws';

class FakeSocket extends EventTarget {
  static readonly CONNECTING = 0;
  static readonly OPEN = 1;
  static readonly CLOSING = 2;
  static readonly CLOSED = 3;
  static made: FakeSocket[] = [];
  readyState = FakeSocket.CONNECTING;
  binaryType = 'blob';
  readonly sent: unknown[] = [];

  constructor(readonly url: string) {
    super();
    FakeSocket.made.push(this);
  }
  send(data: unknown): void {
    this.sent.push(data);
  }
  close(): void {
    this.readyState = FakeSocket.CLOSED;
    this.dispatchEvent(new Event('close'));
  }
  open(): void {
    this.readyState = FakeSocket.OPEN;
    this.dispatchEvent(new Event('open'));
  }
  receive(data: string | ArrayBuffer): void {
    this.dispatchEvent(Object.assign(new Event('message'), { data }));
  }
}

function recorder(): LinkHandlers & { heard: string[] } {
  const heard: string[] = [];
  return {
    heard,
    onOpen: () => heard.push('open'),
    onClose: () => heard.push('close'),
    onText: (text) => heard.push(`text ${text}`),
    onBinary: (bytes) => heard.push(`binary ${bytes.length}`),
  };
}

beforeEach(() => {
  FakeSocket.made = [];
  vi.stubGlobal('WebSocket', FakeSocket);
});
afterEach(() => {
  vi.unstubAllGlobals();
});

describe('browserConnect', () => {
  it('opens a socket of its own for each connection when there is no early one', () => {
    const connect = browserConnect(URL_);
    connect(recorder());
    connect(recorder());
    expect(FakeSocket.made.map((socket) => socket.url)).toEqual([URL_, URL_]);
    expect(FakeSocket.made.every((socket) => socket.binaryType === 'arraybuffer')).toBe(true);
  });

  it('takes over an early socket still opening, and hears its open, messages and close', () => {
    const early = openEarlySocket(URL_) as unknown as FakeSocket;
    const handlers = recorder();
    const link = browserConnect(URL_, early as unknown as WebSocket)(handlers);
    expect(FakeSocket.made).toEqual([early]);
    expect(early.binaryType).toBe('arraybuffer'); // set as it is taken over, before any message
    early.open();
    link.sendText('{"type":"join"}');
    early.receive('{"type":"joined"}');
    early.receive(new Uint8Array([1, 2, 3]).buffer);
    early.close();
    expect(early.sent).toEqual(['{"type":"join"}']);
    expect(handlers.heard).toEqual(['open', 'text {"type":"joined"}', 'binary 3', 'close']);
  });

  it('takes over an early socket already open: told it is open once, after connect returns', async () => {
    const early = openEarlySocket(URL_) as unknown as FakeSocket;
    early.open();
    const handlers = recorder();
    browserConnect(URL_, early as unknown as WebSocket)(handlers);
    expect(handlers.heard).toEqual([]); // not during connect: the conversation holds no link yet
    await Promise.resolve();
    expect(handlers.heard).toEqual(['open']);
    expect(FakeSocket.made).toEqual([early]);
  });

  it('leaves an early socket that closed before the conversation got to it, and opens a new one', () => {
    const early = openEarlySocket(URL_) as unknown as FakeSocket;
    early.close();
    const handlers = recorder();
    browserConnect(URL_, early as unknown as WebSocket)(handlers);
    expect(FakeSocket.made).toHaveLength(2);
    FakeSocket.made[1]!.open();
    expect(handlers.heard).toEqual(['open']);
  });

  it('uses the early socket for the first connection only: a reconnect opens its own', () => {
    const early = openEarlySocket(URL_) as unknown as FakeSocket;
    const connect = browserConnect(URL_, early as unknown as WebSocket);
    connect(recorder());
    early.open();
    early.close();
    connect(recorder());
    expect(FakeSocket.made).toHaveLength(2);
    expect(FakeSocket.made[1]).not.toBe(early);
  });

  it('sends nothing on a socket that is not open', () => {
    const link = browserConnect(URL_)(recorder());
    link.sendText('too soon');
    link.sendBinary(new Uint8Array([1]));
    expect(FakeSocket.made[0]!.sent).toEqual([]);
  });
});
