/**
 * Scale-out: workload b (100 streaming pairs) on one Duet node with its in-process rooms, and
 * on two Duet nodes sharing rooms through a real redis-server, with every pair split across
 * the nodes (A on node 1, B on node 2) so that every frame crosses Redis pub/sub. Same run,
 * same clients, turns taken slice by slice.
 */
import { existsSync } from 'node:fs';
import { startRedis, REDIS_SERVER } from '../../server/test/support/redis-server.ts';
import { closePairs, connectPairs, duetConnector, type Endpoint, type PairConnector } from '../clients.ts';
import type { BenchConfig } from '../config.ts';
import { procCpuMicros, RelayProcess } from '../relay-process.ts';
import { Samples } from '../stats.ts';
import { PingPong } from './pingpong.ts';
import { runStreamSlice, summariseStream, type StreamResult, type StreamSlice } from './stream.ts';

export interface ScaleOutResult {
  oneNode: StreamResult;
  /** Relay CPU summed over both nodes; Redis's own CPU is not counted (it is `redisCpuMicrosPerMessage`). */
  twoNodesRedis: StreamResult;
  /** redis-server's own CPU per message delivered across the nodes; undefined where /proc is missing. */
  redisCpuMicrosPerMessage: number | undefined;
  /** At rest: one pair, one frame in flight (workload a), on one node and across the two. */
  rest: { oneNode: RestLatency; twoNodesRedis: RestLatency };
}

export interface RestLatency {
  rttP50Ms: number;
  rttP99Ms: number;
}

/** Ping-pong rounds at rest, per setup (after as many to warm up). */
const REST_ROUNDS = 2_000;

const DRAIN_MS = 2_000;

export async function runScaleOut(config: BenchConfig): Promise<ScaleOutResult | { skipped: string }> {
  if (!existsSync(REDIS_SERVER)) return { skipped: `${REDIS_SERVER} is missing` };
  const redis = await startRedis();
  const started: RelayProcess[] = [];
  const connected: [Endpoint, Endpoint][][] = [];
  try {
    const single = await RelayProcess.start('duet');
    started.push(single);
    const env = { BENCH_REDIS_URL: redis.url };
    const node1 = await RelayProcess.start('duet', undefined, env);
    started.push(node1);
    const node2 = await RelayProcess.start('duet', undefined, env);
    started.push(node2);
    const deadline = performance.now() + config.workloadTimeoutMs;
    const rest = {
      oneNode: await latencyAtRest(duetConnector(single.port), deadline),
      twoNodesRedis: await latencyAtRest(duetConnector(node1.port, node2.port), deadline),
    };
    const setups = [
      {
        name: 'oneNode' as const,
        cpu: () => single.cpuMicros(),
        beside: () => undefined,
        connect: duetConnector(single.port),
      },
      {
        name: 'twoNodesRedis' as const,
        cpu: async () => (await node1.cpuMicros()) + (await node2.cpuMicros()),
        beside: () => procCpuMicros(redis.pid),
        connect: duetConnector(node1.port, node2.port),
      },
    ];
    const runs = [];
    for (const setup of setups) {
      const pairs = await connectPairs(setup.connect, config.pairsB, config.connectBatch, deadline);
      connected.push(pairs);
      runs.push({ ...setup, pairs, slices: [] as StreamSlice[], samples: new Samples() });
    }
    const slices = config.slicesB;
    for (let slice = 0; slice < slices; slice++) {
      for (const run of slice % 2 === 0 ? runs : [...runs].reverse()) {
        const options = {
          frameBytes: config.frameBytes,
          window: config.window,
          batchWrites: config.clientWrites === 'batched',
          durationMs: config.durationBMs / slices,
          warmupMs: run.slices.length === 0 ? config.warmupMs : config.rewarmMs,
          drainMs: DRAIN_MS,
          maxFramesPerSide: 1_000_000,
        };
        run.slices.push(await runStreamSlice(run.pairs, options, run.samples, run.cpu, run.beside));
      }
    }
    const [one, two] = runs;
    if (!one || !two) throw new Error('unreachable');
    const twoNodesRedis = summariseStream(two.slices, two.samples, config.pairsB, config.window);
    return {
      oneNode: summariseStream(one.slices, one.samples, config.pairsB, config.window),
      twoNodesRedis,
      redisCpuMicrosPerMessage: two.slices.every((slice) => slice.besideMicros !== undefined)
        ? two.slices.reduce((sum, slice) => sum + (slice.besideMicros ?? 0), 0) /
          Math.max(1, twoNodesRedis.delivered)
        : undefined,
      rest,
    };
  } finally {
    for (const pairs of connected) closePairs(pairs);
    await Promise.all(started.map((relay) => relay.stop()));
    await redis.stop();
  }
}

/** Round trips of one pair with one frame in flight (warmed up first), as workload a plays them. */
async function latencyAtRest(connect: PairConnector, deadline: number): Promise<RestLatency> {
  const [pair] = await connectPairs(connect, 1, 1, deadline);
  if (!pair) throw new Error('scale-out: no pair at rest');
  try {
    const game = new PingPong(pair, 64);
    const timeoutMs = Math.max(1_000, deadline - performance.now());
    await game.run(REST_ROUNDS, undefined, timeoutMs);
    const samples = new Samples();
    await game.run(REST_ROUNDS, samples, timeoutMs);
    const [p50, p99] = samples.percentiles(50, 99);
    return { rttP50Ms: p50 ?? Number.NaN, rttP99Ms: p99 ?? Number.NaN };
  } finally {
    closePairs([pair]);
  }
}
