/**
 * A tiny test client for the relay: a real `ws` socket that queues what it receives, so tests
 * wait on the next message instead of sleeping.
 */
import WebSocket, { type ClientOptions } from 'ws';
import { parseServerMessage, type ServerMessage } from '@duet/core/protocol/control';

type Received =
  | { kind: 'control'; message: ServerMessage }
  | { kind: 'binary'; data: Buffer }
  /** A text frame that is not a valid server message: always a test failure. */
  | { kind: 'invalid'; text: string };

export class TestClient {
  readonly socket: WebSocket;
  readonly #queue: Received[] = [];
  readonly #waiters: ((item: Received) => void)[] = [];
  readonly closed: Promise<{ code: number; reason: string }>;
  /** The latest `ack` (kept apart from the queue, which it would otherwise interleave). */
  acked = 0;
  readonly #ackWaiters: { frames: number; resolve: () => void }[] = [];

  private constructor(socket: WebSocket) {
    this.socket = socket;
    socket.on('message', (data, isBinary) => {
      const buffer = Buffer.isBuffer(data) ? data : Buffer.concat(data as Buffer[]);
      this.#push(isBinary ? { kind: 'binary', data: buffer } : TestClient.#parse(buffer.toString('utf8')));
    });
    socket.on('error', () => undefined); // surfaces as `closed`
    this.closed = new Promise((resolve) =>
      socket.on('close', (code, reason) => resolve({ code, reason: reason.toString() })),
    );
  }

  static #parse(text: string): Received {
    try {
      return { kind: 'control', message: parseServerMessage(text) };
    } catch {
      return { kind: 'invalid', text };
    }
  }

  #push(item: Received): void {
    if (item.kind === 'control' && item.message.type === 'ack') {
      this.acked = item.message.frames;
      for (const waiter of this.#ackWaiters.filter((w) => w.frames <= this.acked)) {
        this.#ackWaiters.splice(this.#ackWaiters.indexOf(waiter), 1);
        waiter.resolve();
      }
      return;
    }
    const waiter = this.#waiters.shift();
    if (waiter) waiter(item);
    else this.#queue.push(item);
  }

  static async connect(
    baseUrl: string,
    headers: Record<string, string> = {},
    options: ClientOptions = {},
  ): Promise<TestClient> {
    const socket = new WebSocket(`${baseUrl.replace(/^http/, 'ws')}/ws`, { ...options, headers });
    await new Promise<void>((resolve, reject) => {
      socket.once('open', () => resolve());
      socket.once('error', reject);
    });
    return new TestClient(socket);
  }

  next(): Promise<Received> {
    const item = this.#queue.shift();
    if (item) return Promise.resolve(item);
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  async control(): Promise<ServerMessage> {
    const item = await this.next();
    if (item.kind === 'binary') throw new Error(`expected a control message, got ${item.data.length} bytes`);
    if (item.kind === 'invalid') throw new Error(`relay sent an invalid control frame: ${item.text}`);
    return item.message;
  }

  async binary(): Promise<Buffer> {
    const item = await this.next();
    if (item.kind !== 'binary') throw new Error(`expected binary, got ${JSON.stringify(item)}`);
    return item.data;
  }

  /** Resolves once the relay has acknowledged `frames` binary frames on this connection. */
  ackedAtLeast(frames: number): Promise<void> {
    if (this.acked >= frames) return Promise.resolve();
    return new Promise((resolve) => this.#ackWaiters.push({ frames, resolve }));
  }

  /** Waits for an `error` control message and returns its code. */
  async errorCode(): Promise<string> {
    const message = await this.control();
    if (message.type !== 'error') throw new Error(`expected an error, got ${JSON.stringify(message)}`);
    return message.code;
  }

  sendJson(value: unknown): void {
    this.socket.send(JSON.stringify(value));
  }

  sendText(text: string): void {
    this.socket.send(text);
  }

  sendBinary(bytes: Uint8Array): void {
    this.socket.send(bytes, { binary: true });
  }

  async join(room: string, suite = 'modern'): Promise<ServerMessage> {
    this.sendJson({ type: 'join', room, suite });
    return this.control();
  }

  /** Closes with a closing handshake (code 1000 unless given): a deliberate close. */
  close(code = 1000): void {
    this.socket.close(code);
  }

  /** Cuts the TCP connection without a closing handshake, as a network failure does. */
  cut(): void {
    this.socket.terminate();
  }
}

/** Connects two clients and seats them in `room`; returns [initiator, responder]. */
export async function pair(
  baseUrl: string,
  room: string,
  suite = 'modern',
): Promise<[TestClient, TestClient]> {
  const a = await TestClient.connect(baseUrl);
  const b = await TestClient.connect(baseUrl);
  await a.join(room, suite);
  await b.join(room, suite);
  await a.control(); // partner-joined
  return [a, b];
}

/** Resolves with the HTTP status of a refused upgrade, or 101 when the upgrade went through. */
export function upgradeStatus(
  url: string,
  headers: Record<string, string> = {},
  path = '/ws',
): Promise<number> {
  return new Promise((resolve) => {
    const socket = new WebSocket(`${url.replace(/^http/, 'ws')}${path}`, { headers });
    socket.once('open', () => {
      socket.close();
      resolve(101);
    });
    socket.once('unexpected-response', (request, response) => {
      resolve(response.statusCode ?? 0);
      request.destroy();
    });
    socket.once('error', () => undefined);
  });
}
