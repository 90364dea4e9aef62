/**
 * A TCP proxy on loopback that cuts connections at random points: the network failing under
 * the clients. Seeded, so a failing run can be replayed, and bounded: after `maxCuts` cuts it
 * passes everything through.
 */
import { createServer, connect, type AddressInfo, type Socket } from 'node:net';

export interface FaultProxyOptions {
  /** Where the relay listens. */
  targetPort: number;
  seed: number;
  /** Cuts in all; later connections are left alone. */
  maxCuts: number;
  /** A connection is cut after a random number of bytes (both directions) in this range. */
  cutAfterBytes: [min: number, max: number];
}

export interface FaultProxy {
  port: number;
  url: string;
  cuts(): number;
  close(): Promise<void>;
}

/** mulberry32: a small, good-enough seeded PRNG for test schedules. */
function prng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export async function startFaultProxy(options: FaultProxyOptions): Promise<FaultProxy> {
  const random = prng(options.seed);
  const sockets = new Set<Socket>();
  let cuts = 0;

  const server = createServer((client) => {
    const upstream = connect(options.targetPort, '127.0.0.1');
    sockets.add(client);
    sockets.add(upstream);
    const [min, max] = options.cutAfterBytes;
    const willCut = cuts < options.maxCuts;
    let budget = willCut ? min + Math.floor(random() * (max - min)) : Infinity;
    let cut = false;

    const forward = (from: Socket, to: Socket) => {
      from.on('data', (chunk: Buffer) => {
        if (cut) return;
        if (chunk.length >= budget) {
          // Deliver part of the chunk, then fail hard in both directions, as a dropped link does.
          to.write(chunk.subarray(0, budget));
          cut = true;
          cuts += 1;
          client.destroy();
          upstream.destroy();
          return;
        }
        budget -= chunk.length;
        to.write(chunk);
      });
    };
    forward(client, upstream);
    forward(upstream, client);
    for (const socket of [client, upstream]) {
      socket.on('error', () => undefined);
      socket.on('close', () => {
        sockets.delete(socket);
        client.destroy();
        upstream.destroy();
      });
    }
  });

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    port,
    url: `ws://127.0.0.1:${port}/ws`,
    cuts: () => cuts,
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
