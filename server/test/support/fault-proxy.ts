/**
 * A TCP proxy on loopback between clients and the relay: the network failing under them. It
 * can add latency each way, cut links after a random number of bytes or at random times, and
 * cut a link just before a given relay reply reaches its client (the reply is lost, the relay
 * has acted on the request). Seeded, so a failing run can be replayed, and bounded: byte cuts
 * stop after `maxCuts`, timed cuts when `stopCutting()` is called or the proxy closes.
 */
import { createServer, connect, type AddressInfo, type Socket } from 'node:net';

export interface FaultProxyOptions {
  /** Where the relay listens. */
  targetPort: number;
  seed: number;
  /** Added to every chunk, each way, keeping order (ms); 0 by default. */
  latencyMs?: number;
  /** Byte cuts in all; later connections are left alone. 0 by default. */
  maxCuts?: number;
  /** A connection is cut after a random number of bytes (both directions) in this range. */
  cutAfterBytes?: [min: number, max: number];
  /**
   * Cut the link just before a relay → client chunk holding `text` (a control reply such as
   * `{"type":"resumed"`) is delivered, the first `times` times it appears.
   */
  dropReply?: { text: string; times: number };
}

export interface FaultProxy {
  port: number;
  url: string;
  /** Cuts so far, of every kind. */
  cuts(): number;
  /** Replies dropped so far (`dropReply`). */
  droppedReplies(): number;
  /** Cuts every live link now, as a network failure does. */
  cutAll(): void;
  /** Cuts one live link, chosen at random, after every random interval in `everyMs`, until stopped. */
  startCutting(everyMs: [min: number, max: number]): void;
  stopCutting(): void;
  close(): Promise<void>;
}

/** mulberry32: a small, good-enough seeded PRNG for test schedules. */
export function prng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * One way of one link: chunks wait `latencyMs`, in order, then go out; a cut throws away what
 * is still on the way. `then` runs once its chunk is out (a cut that follows the last bytes).
 */
class DelayLine {
  readonly #queue: { due: number; chunk: Buffer; then?: (() => void) | undefined }[] = [];
  #timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly to: Socket,
    private readonly latencyMs: number,
  ) {}

  push(chunk: Buffer, then?: () => void): void {
    if (this.latencyMs === 0) {
      this.to.write(chunk);
      then?.();
      return;
    }
    this.#queue.push({ due: Date.now() + this.latencyMs, chunk, then });
    if (this.#queue.length === 1) this.#arm();
  }

  clear(): void {
    clearTimeout(this.#timer);
    this.#queue.length = 0;
  }

  #arm(): void {
    const head = this.#queue[0];
    if (!head) return;
    this.#timer = setTimeout(() => this.#drain(), Math.max(0, head.due - Date.now()));
  }

  #drain(): void {
    const now = Date.now();
    while (this.#queue.length > 0 && this.#queue[0]!.due <= now) {
      const { chunk, then } = this.#queue.shift()!;
      this.to.write(chunk);
      then?.();
    }
    this.#arm();
  }
}

interface Link {
  /** Fails the link in both directions at once; `counted` when it is a fault, not a close. */
  cut(counted?: boolean): void;
}

export async function startFaultProxy(options: FaultProxyOptions): Promise<FaultProxy> {
  const random = prng(options.seed);
  const latencyMs = options.latencyMs ?? 0;
  const sockets = new Set<Socket>();
  const links = new Set<Link>();
  let cuts = 0;
  let byteCuts = 0;
  let droppedReplies = 0;
  let cutTimer: NodeJS.Timeout | undefined;
  const reply = options.dropReply && Buffer.from(options.dropReply.text);

  const server = createServer((client) => {
    const upstream = connect(options.targetPort, '127.0.0.1');
    sockets.add(client);
    sockets.add(upstream);
    const toUpstream = new DelayLine(upstream, latencyMs);
    const toClient = new DelayLine(client, latencyMs);
    const [min, max] = options.cutAfterBytes ?? [0, 0];
    const willCut = byteCuts < (options.maxCuts ?? 0);
    if (willCut) byteCuts += 1;
    let budget = willCut ? min + Math.floor(random() * (max - min)) : Infinity;
    let cut = false;
    /** The last bytes sent to the client, so that a reply split across two chunks is still found. */
    let tail = Buffer.alloc(0);

    const link: Link = {
      cut(counted = true) {
        if (cut) return;
        cut = true;
        if (counted) cuts += 1;
        links.delete(link);
        toUpstream.clear();
        toClient.clear();
        client.destroy();
        upstream.destroy();
      },
    };
    links.add(link);

    /** How much of a relay → client chunk may pass before the reply to drop; undefined: all of it. */
    const replyAt = (chunk: Buffer): number | undefined => {
      if (!reply || !options.dropReply || droppedReplies >= options.dropReply.times) return undefined;
      const seen = Buffer.concat([tail, chunk]);
      const index = seen.indexOf(reply);
      tail = seen.subarray(Math.max(0, seen.length - reply.length + 1));
      return index < 0 ? undefined : Math.max(0, index - (seen.length - chunk.length));
    };

    const forward = (from: Socket, line: DelayLine, toClientSide: boolean) => {
      from.on('data', (chunk: Buffer) => {
        if (cut) return;
        const dropAt = toClientSide ? replyAt(chunk) : undefined;
        if (dropAt !== undefined) {
          droppedReplies += 1;
          // The reply never arrives: the link fails once what came before it is through.
          line.push(chunk.subarray(0, dropAt), () => link.cut());
          budget = Infinity;
          from.pause();
          return;
        }
        if (chunk.length >= budget) {
          // Deliver part of the chunk, then fail hard in both directions, as a dropped link does.
          const last = chunk.subarray(0, budget);
          budget = Infinity;
          from.pause();
          line.push(last, () => link.cut());
          return;
        }
        budget -= chunk.length;
        line.push(chunk);
      });
    };
    forward(client, toUpstream, false);
    forward(upstream, toClient, true);
    // A close on one side reaches the other once what was on the way has arrived.
    const closeAfter = (socket: Socket, line: DelayLine) => {
      socket.on('error', () => undefined);
      socket.on('close', () => {
        sockets.delete(socket);
        line.push(Buffer.alloc(0), () => link.cut(false));
      });
    };
    closeAfter(client, toUpstream);
    closeAfter(upstream, toClient);
  });

  const cutOne = () => {
    const live = [...links];
    live[Math.floor(random() * live.length)]?.cut();
  };

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    port,
    url: `ws://127.0.0.1:${port}/ws`,
    cuts: () => cuts,
    droppedReplies: () => droppedReplies,
    cutAll() {
      for (const link of [...links]) link.cut();
    },
    startCutting([min, max]) {
      const next = () => {
        cutTimer = setTimeout(
          () => {
            cutOne();
            next();
          },
          min + random() * (max - min),
        );
      };
      clearTimeout(cutTimer);
      next();
    },
    stopCutting() {
      clearTimeout(cutTimer);
      cutTimer = undefined;
    },
    async close() {
      clearTimeout(cutTimer);
      for (const link of [...links]) link.cut(false);
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
