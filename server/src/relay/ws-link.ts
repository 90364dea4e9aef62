/** A WebSocket (`ws`) as a relay `Link`: the only place besides relay.ts that touches `ws`. */
import { WebSocket, type RawData } from 'ws';
import { encodeControl, type ServerMessage } from '@duet/core/protocol/control';
import type { Link, LinkEvents } from './link.ts';

/**
 * The TCP socket under a `ws` connection. `ws` keeps it private (`_socket`); the relay only
 * corks and uncorks it to batch writes, and writes plainly when it is missing.
 * ws is pinned by the lock file, and the relay tests run through this path. The bench's load
 * clients cork through it too (bench/clients.ts).
 */
export function rawSocket(socket: WebSocket): { cork(): void; uncork(): void } | undefined {
  const raw = (socket as unknown as { _socket?: { cork?: unknown; uncork?: unknown } })._socket;
  return raw && typeof raw.cork === 'function' && typeof raw.uncork === 'function'
    ? (raw as { cork(): void; uncork(): void })
    : undefined;
}

/** The options of every binary send: one object, not one per frame (`ws` copies what it reads). */
const BINARY = Object.freeze({ binary: true });

/**
 * Whether `ws` holds no more bytes read from this socket than the frame it is handing over: the
 * frame came alone, and at rest every frame does. `ws` keeps its receiver private
 * (`_receiver._bufferedBytes`); without it, a frame is taken as one of several, which batches
 * as before.
 */
function readAlone(socket: WebSocket): boolean {
  const receiver = (socket as unknown as { _receiver?: { _bufferedBytes?: unknown } })._receiver;
  return receiver?._bufferedBytes === 0;
}

function toBuffer(data: RawData): Buffer {
  if (Buffer.isBuffer(data)) return data;
  return Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data);
}

/**
 * A WebSocket as a Link. A class, so that its methods live once on the prototype: arrow
 * functions in an object literal made about a dozen closures per connection, and under tsx
 * (esbuild's keepNames) each also got its `name` redefined, which gives a function its own
 * dictionary of properties. That came to about 4 KiB of heap per idle connection
 * (docs/benchmarks.md, workload d).
 *
 * `cork` and `uncork` reach the TCP socket when `ws` shows it, and do nothing when it does not:
 * writes then go out one by one.
 */
class WsLink implements Link {
  readonly #socket: WebSocket;

  constructor(socket: WebSocket) {
    this.#socket = socket;
  }

  get open(): boolean {
    return this.#socket.readyState === WebSocket.OPEN;
  }

  get bufferedBytes(): number {
    return this.#socket.bufferedAmount;
  }

  sendControl(message: ServerMessage): void {
    this.#socket.send(encodeControl(message));
  }

  sendBinary(data: Buffer): void {
    this.#socket.send(data, BINARY);
  }

  close(code: number, reason: string): void {
    this.#socket.close(code, reason);
  }

  terminate(): void {
    this.#socket.terminate();
  }

  ping(): void {
    this.#socket.ping();
  }

  pause(): void {
    this.#socket.pause();
  }

  resume(): void {
    this.#socket.resume();
  }

  cork(): void {
    rawSocket(this.#socket)?.cork();
  }

  uncork(): void {
    rawSocket(this.#socket)?.uncork();
  }
}

/** Hands an upgraded WebSocket to the relay and forwards its events. */
export function attachWebSocket(socket: WebSocket, attach: (link: Link) => LinkEvents): void {
  const events = attach(new WsLink(socket));
  socket.on('pong', () => events.pong());
  socket.on('message', (data, isBinary) => events.message(toBuffer(data), isBinary, readAlone(socket)));
  // ws emits 'error' for a protocol violation (codes WS_ERR_*, closing with 1002, 1007 or 1009)
  // and for a failed write; the latter is followed by 'close' like any drop.
  socket.on('error', (error: Error & { code?: unknown }) => {
    if (typeof error.code === 'string' && error.code.startsWith('WS_ERR_')) events.violation();
  });
  socket.on('close', (code) => events.closed(code));
}
