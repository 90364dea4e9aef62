/**
 * Load clients, one kind per relay, behind one small interface: connect a pair into a room,
 * then send frames and be told of frames the partner sent. Each speaks its relay's protocol:
 *   duet        join JSON on /ws, ready on `joined` (partner: true) / `partner-joined`
 *   minimal-ws  /?room=..., ready on the text frame `paired`
 *   socket.io   websocket transport only, `join` event, ready on `paired`; frames are `msg` events
 */
import { io, type Socket } from 'socket.io-client';
import WebSocket from 'ws';
import { rawSocket } from '../server/src/relay/ws-link.ts';
import type { RelayName } from './config.ts';

const CONNECT_TIMEOUT_MS = 15_000;
const CLOSE_GRACE_MS = 2_000;
/** Numbers every connectPairs call, so that no two calls share a room name. */
let batchRun = 0;

export interface Endpoint {
  /** Sends one binary frame to the partner, through the relay. */
  send(frame: Uint8Array): void;
  /** Holds the sends that follow until `release()`, so that a burst leaves in one write (workloads/stream.ts). */
  hold(): void;
  release(): void;
  /** Called with every frame the partner sent. */
  onFrame: (frame: Uint8Array) => void;
  close(): void;
}

/** Opens two connections and seats them together in `room`; resolves once both can send. */
export type PairConnector = (room: string) => Promise<[Endpoint, Endpoint]>;

function withTimeout<T>(promise: Promise<T>, what: string, ms = CONNECT_TIMEOUT_MS): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** A `ws` client that remembers which control messages it has seen until the pair is ready. */
class WsEndpoint implements Endpoint {
  onFrame: (frame: Uint8Array) => void = () => undefined;
  readonly #seen = new Set<string>();
  readonly #waiters = new Map<string, () => void>();
  #failed: ((error: Error) => void) | undefined;
  #settled = false;

  private constructor(
    private readonly socket: WebSocket,
    private readonly classify: (text: string) => string,
  ) {
    socket.on('message', (data, isBinary) => {
      if (isBinary) this.onFrame(data as Buffer);
      else if (!this.#settled) this.#control(this.classify(data.toString()));
    });
    socket.on('error', (error) => this.#failed?.(error));
  }

  static async open(url: string, classify: (text: string) => string): Promise<WsEndpoint> {
    const socket = new WebSocket(url, { perMessageDeflate: false });
    // Listening before 'open': a relay may send its first frame in the same packet as the upgrade.
    const endpoint = new WsEndpoint(socket, classify);
    await withTimeout(
      new Promise<void>((resolve, reject) => {
        socket.once('open', () => resolve());
        socket.once('error', reject);
      }),
      `open ${url}`,
    );
    return endpoint;
  }

  #control(kind: string): void {
    if (kind.startsWith('error')) return this.#failed?.(new Error(`relay refused: ${kind}`));
    this.#seen.add(kind);
    this.#waiters.get(kind)?.();
  }

  /** Resolves once a control message of this kind has arrived (before or after the call). */
  waitFor(kind: string): Promise<void> {
    if (this.#seen.has(kind)) return Promise.resolve();
    return withTimeout(
      new Promise<void>((resolve, reject) => {
        this.#waiters.set(kind, resolve);
        this.#failed = reject;
      }),
      `waiting for ${kind}`,
    );
  }

  /** The pair is ready: stop looking at control messages (the relay's `ack`s are ignored). */
  settle(): void {
    this.#settled = true;
    this.#seen.clear();
    this.#waiters.clear();
  }

  sendText(text: string): void {
    this.socket.send(text);
  }

  send(frame: Uint8Array): void {
    this.socket.send(frame, { binary: true });
  }

  hold(): void {
    rawSocket(this.socket)?.cork();
  }

  release(): void {
    rawSocket(this.socket)?.uncork();
  }

  /** A normal close (1000), so that Duet frees the seat at once; cut after CLOSE_GRACE_MS. */
  close(): void {
    if (this.socket.readyState === WebSocket.CLOSED) return;
    this.socket.close(1000);
    setTimeout(() => this.socket.terminate(), CLOSE_GRACE_MS).unref();
  }
}

/** Duet's control messages by kind: `joined-partner` when the partner is already there. */
function duetKind(text: string): string {
  const message = JSON.parse(text) as { type?: string; partner?: boolean; code?: string };
  if (message.type === 'joined') return message.partner ? 'joined-partner' : 'joined-alone';
  if (message.type === 'error') return `error ${message.code ?? ''}`;
  return message.type ?? 'unknown';
}

/** Duet pairs with one side on the relay at `port` and the other at `portB` (two nodes sharing rooms). */
export function duetConnector(port: number, portB = port): PairConnector {
  const url = `ws://127.0.0.1:${port}/ws`;
  const urlB = `ws://127.0.0.1:${portB}/ws`;
  return async (room) => {
    const [a, b] = await Promise.all([WsEndpoint.open(url, duetKind), WsEndpoint.open(urlB, duetKind)]);
    a.sendText(JSON.stringify({ type: 'join', room, suite: 'des' }));
    await a.waitFor('joined-alone');
    b.sendText(JSON.stringify({ type: 'join', room, suite: 'des' }));
    await Promise.all([b.waitFor('joined-partner'), a.waitFor('partner-joined')]);
    a.settle();
    b.settle();
    return [a, b];
  };
}

function minimalConnector(port: number): PairConnector {
  return async (room) => {
    const url = `ws://127.0.0.1:${port}/?room=${encodeURIComponent(room)}`;
    const a = await WsEndpoint.open(url, (text) => text);
    const b = await WsEndpoint.open(url, (text) => text);
    await Promise.all([a.waitFor('paired'), b.waitFor('paired')]);
    a.settle();
    b.settle();
    return [a, b];
  };
}

class SocketIoEndpoint implements Endpoint {
  onFrame: (frame: Uint8Array) => void = () => undefined;

  private constructor(private readonly socket: Socket) {
    socket.on('msg', (data: Buffer | ArrayBuffer) =>
      this.onFrame(data instanceof ArrayBuffer ? new Uint8Array(data) : data),
    );
  }

  static async open(url: string): Promise<SocketIoEndpoint> {
    const socket = io(url, { transports: ['websocket'], forceNew: true, reconnection: false });
    await withTimeout(
      new Promise<void>((resolve, reject) => {
        socket.once('connect', () => resolve());
        socket.once('connect_error', reject);
      }),
      `connect ${url}`,
    );
    return new SocketIoEndpoint(socket);
  }

  /** Joins `room`; resolves once the relay says the room has its two. */
  join(room: string): Promise<void> {
    const paired = withTimeout(
      new Promise<void>((resolve) => this.socket.once('paired', () => resolve())),
      'waiting for paired',
    );
    this.socket.emit('join', room);
    return paired;
  }

  send(frame: Uint8Array): void {
    this.socket.emit('msg', frame);
  }

  /**
   * The TCP socket under engine.io's `ws` transport; undefined if it is not there. engine.io
   * sends the first packet of a tick at once and the rest on `process.nextTick`, which runs
   * before the microtask that releases the hold: all of them leave in the held write.
   */
  #raw(): { cork(): void; uncork(): void } | undefined {
    const transport = (this.socket.io.engine as unknown as { transport?: { ws?: WebSocket } }).transport;
    return transport?.ws ? rawSocket(transport.ws) : undefined;
  }

  hold(): void {
    this.#raw()?.cork();
  }

  release(): void {
    this.#raw()?.uncork();
  }

  close(): void {
    this.socket.disconnect();
  }
}

function socketIoConnector(port: number): PairConnector {
  const url = `http://127.0.0.1:${port}`;
  return async (room) => {
    const a = await SocketIoEndpoint.open(url);
    const b = await SocketIoEndpoint.open(url);
    const aPaired = a.join(room);
    await Promise.all([aPaired, b.join(room)]);
    return [a, b];
  };
}

export function connectorFor(relay: RelayName, port: number): PairConnector {
  switch (relay) {
    case 'duet':
      return duetConnector(port);
    case 'minimal-ws':
      return minimalConnector(port);
    case 'socket.io':
      return socketIoConnector(port);
    default: {
      const unknown: never = relay;
      throw new Error(`no client for ${String(unknown)}`);
    }
  }
}

/**
 * Connects `count` pairs in rooms `bench-<call>-<i>` (fresh names on every call), `batch` sockets at a time; gives up (throws)
 * past `deadline` (a performance.now() time). Returns the pairs in order.
 */
export async function connectPairs(
  connect: PairConnector,
  count: number,
  batch: number,
  deadline: number,
): Promise<[Endpoint, Endpoint][]> {
  const pairs: [Endpoint, Endpoint][] = [];
  const pairsPerBatch = Math.max(1, Math.floor(batch / 2));
  const run = (batchRun += 1);
  try {
    for (let first = 0; first < count; first += pairsPerBatch) {
      if (performance.now() > deadline) throw new Error(`connecting ${count} pairs took too long`);
      const size = Math.min(pairsPerBatch, count - first);
      const rooms = Array.from({ length: size }, (_, i) => `bench-${run}-${first + i}`);
      const results = await Promise.allSettled(rooms.map((room) => connect(room)));
      for (const result of results) if (result.status === 'fulfilled') pairs.push(result.value);
      const failure = results.find((result) => result.status === 'rejected');
      if (failure) throw failure.reason;
    }
  } catch (error) {
    closePairs(pairs);
    throw error;
  }
  return pairs;
}

export function closePairs(pairs: readonly [Endpoint, Endpoint][]): void {
  for (const [a, b] of pairs) {
    a.close();
    b.close();
  }
}
