/**
 * Workloads a, b and c on every relay at once, interleaved: each relay's measurement is cut
 * into blocks (ping-pong) or slices (streaming) played in turn, in a rotating order. The
 * machine is shared (editors, test runs): whatever else runs slows all relays alike instead of
 * whichever happened to be measured then. A relay that fails is dropped and its error kept.
 */
import { closePairs, connectorFor, connectPairs, type Endpoint } from './clients.ts';
import type { BenchConfig, RelayName, WorkloadName } from './config.ts';
import type { RelayProcess } from './relay-process.ts';
import type { RelayResults } from './report.ts';
import { Samples } from './stats.ts';
import { PingPong, type PingPongResult } from './workloads/pingpong.ts';
import { runStreamSlice, summariseStream, type StreamResult, type StreamSlice } from './workloads/stream.ts';

/** Round trips per ping-pong block. */
const PING_PONG_BLOCK = 100;
/** Cap on data frames per side in one slice, so that no slice can send without bound. */
const MAX_FRAMES_PER_SIDE = 5_000_000;
const DRAIN_MS = 2_000;

type Results = Record<RelayName, RelayResults>;

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** `items` rotated left by `by`: every relay gets every position in turn. */
function rotate<T>(items: readonly T[], by: number): T[] {
  const shift = items.length === 0 ? 0 : by % items.length;
  return [...items.slice(shift), ...items.slice(0, shift)];
}

/** Connects `count` pairs on every relay; a relay that fails is left out (its error recorded). */
async function connectAll(
  relays: readonly RelayProcess[],
  count: number,
  workload: WorkloadName,
  config: BenchConfig,
  results: Results,
): Promise<Map<RelayProcess, [Endpoint, Endpoint][]>> {
  const connected = new Map<RelayProcess, [Endpoint, Endpoint][]>();
  for (const relay of relays) {
    try {
      const deadline = performance.now() + config.workloadTimeoutMs;
      const connector = connectorFor(relay.name, relay.port);
      connected.set(relay, await connectPairs(connector, count, config.connectBatch, deadline));
    } catch (error) {
      results[relay.name].errors[workload] = `connecting: ${message(error)}`;
    }
  }
  return connected;
}

export async function pingPongAll(
  relays: readonly RelayProcess[],
  config: BenchConfig,
  results: Results,
): Promise<void> {
  const connected = await connectAll(relays, 1, 'pingpong', config, results);
  const players = new Map<RelayProcess, { game: PingPong; samples: Samples; ms: number; rounds: number }>();
  try {
    for (const [relay, [pair]] of connected) {
      if (pair)
        players.set(relay, {
          game: new PingPong(pair, config.frameBytes),
          samples: new Samples(),
          ms: 0,
          rounds: 0,
        });
    }
    const fail = (relay: RelayProcess, error: unknown): void => {
      results[relay.name].errors.pingpong = message(error);
      players.delete(relay);
    };
    for (const [relay, player] of players) {
      await player.game
        .run(config.pingPongWarmup, undefined, config.workloadTimeoutMs)
        .catch((error) => fail(relay, error));
    }
    const deadline = performance.now() + config.workloadTimeoutMs;
    for (let block = 0; block * PING_PONG_BLOCK < config.pingPongRounds; block++) {
      const rounds = Math.min(PING_PONG_BLOCK, config.pingPongRounds - block * PING_PONG_BLOCK);
      for (const relay of rotate([...players.keys()], block)) {
        const player = players.get(relay);
        if (!player) continue;
        try {
          const left = deadline - performance.now();
          if (left <= 0) throw new Error(`ping-pong: not done within ${config.workloadTimeoutMs} ms`);
          player.ms += await player.game.run(rounds, player.samples, left);
          player.rounds += rounds;
        } catch (error) {
          fail(relay, error);
        }
      }
    }
    for (const [relay, player] of players) {
      const [p50, p99] = player.samples.percentiles(50, 99);
      const result: PingPongResult = {
        rounds: player.rounds,
        rttP50Ms: p50 ?? Number.NaN,
        rttP99Ms: p99 ?? Number.NaN,
        messagesPerSecond: (2 * player.rounds) / (player.ms / 1000),
      };
      results[relay.name].pingpong = result;
    }
  } finally {
    for (const pairs of connected.values()) closePairs(pairs);
  }
}

/** Workload b or c: `pairs` streaming pairs per relay, `durationMs` measured per relay in `slices` turns. */
export async function streamAll(
  relays: readonly RelayProcess[],
  workload: 'stream-b' | 'stream-c',
  pairs: number,
  durationMs: number,
  slices: number,
  config: BenchConfig,
  results: Results,
): Promise<void> {
  const connected = await connectAll(relays, pairs, workload, config, results);
  const measured = new Map<RelayProcess, { slices: StreamSlice[]; samples: Samples }>();
  for (const relay of connected.keys()) measured.set(relay, { slices: [], samples: new Samples() });
  const options = {
    frameBytes: config.frameBytes,
    window: config.window,
    batchWrites: config.clientWrites === 'batched',
    durationMs: durationMs / slices,
    drainMs: DRAIN_MS,
    maxFramesPerSide: MAX_FRAMES_PER_SIDE,
  };
  try {
    for (let slice = 0; slice < slices; slice++) {
      for (const relay of rotate([...measured.keys()], slice)) {
        const run = measured.get(relay);
        const relayPairs = connected.get(relay);
        if (!run || !relayPairs) continue;
        try {
          const warmupMs = run.slices.length === 0 ? config.warmupMs : config.rewarmMs;
          const sliceOptions = { ...options, warmupMs };
          run.slices.push(
            await runStreamSlice(relayPairs, sliceOptions, run.samples, () => relay.cpuMicros()),
          );
        } catch (error) {
          results[relay.name].errors[workload] = message(error);
          measured.delete(relay);
        }
      }
    }
    for (const [relay, run] of measured) {
      const result: StreamResult = summariseStream(run.slices, run.samples, pairs, config.window);
      if (workload === 'stream-b') results[relay.name].streamB = result;
      else results[relay.name].streamC = result;
    }
  } finally {
    for (const relayPairs of connected.values()) closePairs(relayPairs);
  }
}
