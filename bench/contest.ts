/**
 * Workloads a, b and c on every relay at once, interleaved: each relay's measurement is cut
 * into blocks (ping-pong, in turns where each relay follows each other equally often) or
 * slices (streaming, in a rotating order, each after a re-warm) played in turn. The
 * machine is shared (editors, test runs): whatever else runs slows all relays alike instead of
 * whichever happened to be measured then. A relay that fails is dropped and its error kept.
 */
import { closePairs, connectorFor, connectPairs, type Endpoint } from './clients.ts';
import type { BenchConfig, RelayName, WorkloadName } from './config.ts';
import type { RelayProcess } from './relay-process.ts';
import type { RelayResults } from './report.ts';
import { Samples } from './stats.ts';
import { turnOrder } from './turn-order.ts';
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
    // Warm-up and measured rounds alike go in blocks, in the same turns: warmed up one relay
    // after another, the first relay sat idle while the others warmed up, and its first
    // measured block came out about twice as slow (p99 1.5–3 ms against 0.4–0.8).
    const warmupBlocks = Math.ceil(config.pingPongWarmup / PING_PONG_BLOCK);
    const blocks = warmupBlocks + Math.ceil(config.pingPongRounds / PING_PONG_BLOCK);
    const played = new Map<RelayProcess, number>();
    const relaysInOrder = [...players.keys()];
    const order = turnOrder(relaysInOrder.length);
    const deadline = performance.now() + config.workloadTimeoutMs;
    for (let step = 0; relaysInOrder.some((r) => players.has(r) && (played.get(r) ?? 0) < blocks); step++) {
      const relay = relaysInOrder[order[step % order.length]!]!;
      const player = players.get(relay);
      const block = played.get(relay) ?? 0;
      if (!player || block >= blocks) continue;
      played.set(relay, block + 1);
      const measured = block >= warmupBlocks;
      const left = measured
        ? config.pingPongRounds - (block - warmupBlocks) * PING_PONG_BLOCK
        : config.pingPongWarmup - block * PING_PONG_BLOCK;
      const rounds = Math.min(PING_PONG_BLOCK, left);
      try {
        const timeLeft = deadline - performance.now();
        if (timeLeft <= 0) throw new Error(`ping-pong: not done within ${config.workloadTimeoutMs} ms`);
        const ms = await player.game.run(rounds, measured ? player.samples : undefined, timeLeft);
        if (measured) {
          player.ms += ms;
          player.rounds += rounds;
        }
      } catch (error) {
        fail(relay, error);
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
