/**
 * A tiny test client for the relay: a real `ws` socket that queues what it receives, so tests
 * wait on the next message instead of sleeping.
 */
import WebSocket from 'ws';
import { parseServerMessage, type ServerMessage } from '@duet/core/protocol/control';

type Received = { kind: 'control'; message: ServerMessage } | { kind: 'binary'; data: Buffer };

export class TestClient {
  readonly socket: WebSocket;
  readonly #queue: Received[] = [];
  readonly #waiters: ((item: Received) => void)[] = [];
  readonly closed: Promise<{ code: number; reason: string }>;

  private constructor(socket: WebSocket) {
    this.socket = socket;
    socket.on('message', (data, isBinary) => {
      const buffer = Buffer.isBuffer(data) ? data : Buffer.concat(data as Buffer[]);
      const item: Received = isBinary
        ? { kind: 'binary', data: buffer }
        : { kind: 'control', message: parseServerMessage(buffer.toString('utf8')) };
      const waiter = this.#waiters.shift();
      if (waiter) waiter(item);
      else this.#queue.push(item);
    });
    this.closed = new Promise((resolve) =>
      socket.on('close', (code, reason) => resolve({ code, reason: reason.toString() })),
    );
  }

  static async connect(baseUrl: string, headers: Record<string, string> = {}): Promise<TestClient> {
    const socket = new WebSocket(`${baseUrl.replace(/^http/, 'ws')}/ws`, { headers });
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
    if (item.kind !== 'control')
      throw new Error(`expected a control message, got ${item.data.length} binary bytes`);
    return item.message;
  }

  async binary(): Promise<Buffer> {
    const item = await this.next();
    if (item.kind !== 'binary') throw new Error(`expected binary, got ${JSON.stringify(item.message)}`);
    return item.data;
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

  /** Nothing is waiting in the queue (checked after a round trip that proves ordering). */
  get pending(): number {
    return this.#queue.length;
  }

  close(): void {
    this.socket.close();
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
