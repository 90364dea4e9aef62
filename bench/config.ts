/**
 * The bench's sizes, from the environment. `BENCH_QUICK=1` shrinks everything to a smoke run of
 * a few seconds; every size can also be set on its own (`BENCH_PAIRS_C=500`, ...).
 */
import { FILE_VARIANTS, type FileVariant } from './workloads/files.ts';

export const RELAY_NAMES = ['duet', 'minimal-ws', 'socket.io'] as const;
export type RelayName = (typeof RELAY_NAMES)[number];

export const WORKLOAD_NAMES = [
  'pingpong',
  'stream-b',
  'stream-c',
  'idle',
  'crypto',
  'scale-out',
  'conversation',
  'files',
] as const;
export type WorkloadName = (typeof WORKLOAD_NAMES)[number];

export interface BenchConfig {
  quick: boolean;
  relays: RelayName[];
  workloads: WorkloadName[];
  /** Bytes in every relayed frame. */
  frameBytes: number;
  pingPongWarmup: number;
  pingPongRounds: number;
  pairsB: number;
  pairsC: number;
  /** Frames a sender may have in flight, unacknowledged by its partner. */
  window: number;
  /** Streaming before a relay's first measured slice (not counted)... */
  warmupMs: number;
  /** ...and before each later one (the relay is warm by then; this refills the windows). */
  rewarmMs: number;
  /** Measured streaming time per relay, cut into this many slices (relays take turns). */
  durationBMs: number;
  slicesB: number;
  durationCMs: number;
  slicesC: number;
  /** Idle connections for the memory workload (an even number: rooms of two). */
  idleConnections: number;
  /** Sockets opened at once while connecting. */
  connectBatch: number;
  /** How long the crypto workload spends on each measurement. */
  cryptoMs: number;
  /** Messages per suite in the conversation workload. */
  conversationMessages: number;
  /** Set: relay children of workloads a–c run with --cpu-prof and write their profiles to `<dir>/<relay>/`. */
  cpuProfDir: string | undefined;
  /** Hard cap on the time any one workload may take, whatever happens. */
  workloadTimeoutMs: number;
  /** Workload h: the file's size, how many runs of each variant, and which variants. */
  fileMiB: number;
  fileRuns: number;
  fileVariants: FileVariant[];
  /** Workload h: Node options for every peer process (a V8 heap setting tried on both kinds alike, say). */
  fileNodeFlags: string[];
  /** Runs of workloads a–c (the ratio workloads); with more than one, each ratio's median and range. */
  repeat: number;
  /**
   * How the streaming clients (b, c, f) write: `batched`, one write for what a client sends in
   * reply to one read (the default), or `each`, a write per frame (the bench before 2026-12-02,
   * when the load generator, not the relay, set the pace: docs/benchmarks.md).
   */
  clientWrites: 'batched' | 'each';
}

function int(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const value = Number(raw);
  if (!Number.isSafeInteger(value) || value <= 0) throw new Error(`${name} must be a positive integer`);
  return value;
}

function list<T extends string>(env: NodeJS.ProcessEnv, name: string, all: readonly T[]): T[] {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return [...all];
  const picked = raw.split(',').map((item) => item.trim());
  const unknown = picked.filter((item) => !(all as readonly string[]).includes(item));
  if (unknown.length > 0)
    throw new Error(`${name}: unknown ${unknown.join(', ')} (known: ${all.join(', ')})`);
  return picked as T[];
}

/** One of `allowed`, the first by default. */
function oneOf<T extends string>(env: NodeJS.ProcessEnv, name: string, allowed: readonly [T, ...T[]]): T {
  const raw = env[name]?.trim();
  if (raw === undefined || raw === '') return allowed[0];
  if (!(allowed as readonly string[]).includes(raw))
    throw new Error(`${name} must be one of ${allowed.join(', ')}`);
  return raw as T;
}

export function configFromEnv(env: NodeJS.ProcessEnv = process.env): BenchConfig {
  const quick = env.BENCH_QUICK === '1';
  return {
    quick,
    relays: list(env, 'BENCH_RELAYS', RELAY_NAMES),
    workloads: list(env, 'BENCH_WORKLOADS', WORKLOAD_NAMES),
    frameBytes: int(env, 'BENCH_FRAME_BYTES', 100),
    pingPongWarmup: int(env, 'BENCH_PINGPONG_WARMUP', quick ? 20 : 1_000),
    pingPongRounds: int(env, 'BENCH_PINGPONG_ROUNDS', quick ? 200 : 10_000),
    pairsB: int(env, 'BENCH_PAIRS_B', quick ? 10 : 100),
    pairsC: int(env, 'BENCH_PAIRS_C', quick ? 50 : 1_000),
    window: int(env, 'BENCH_WINDOW', 16),
    warmupMs: int(env, 'BENCH_WARMUP_MS', quick ? 100 : 500),
    rewarmMs: int(env, 'BENCH_REWARM_MS', quick ? 50 : 150),
    durationBMs: int(env, 'BENCH_DURATION_B_MS', quick ? 500 : 3_000),
    slicesB: int(env, 'BENCH_SLICES_B', quick ? 2 : 6),
    durationCMs: int(env, 'BENCH_DURATION_C_MS', quick ? 500 : 2_000),
    slicesC: int(env, 'BENCH_SLICES_C', 2),
    idleConnections: Math.max(2, int(env, 'BENCH_IDLE_CONNECTIONS', quick ? 400 : 10_000) & ~1),
    connectBatch: int(env, 'BENCH_CONNECT_BATCH', 200),
    cryptoMs: int(env, 'BENCH_CRYPTO_MS', quick ? 200 : 1_000),
    conversationMessages: int(env, 'BENCH_CONVERSATION_MESSAGES', quick ? 200 : 2_000),
    cpuProfDir: env.BENCH_CPU_PROF?.trim() || undefined,
    workloadTimeoutMs: int(env, 'BENCH_WORKLOAD_TIMEOUT_MS', 60_000),
    fileMiB: int(env, 'BENCH_FILE_MIB', quick ? 8 : 64),
    fileRuns: int(env, 'BENCH_FILE_RUNS', quick ? 1 : 3),
    fileVariants: list(env, 'BENCH_FILE_VARIANTS', FILE_VARIANTS),
    fileNodeFlags: env.BENCH_FILE_NODE_FLAGS?.trim().split(/\s+/).filter(Boolean) ?? [],
    repeat: int(env, 'BENCH_REPEAT', 1),
    clientWrites: oneOf(env, 'BENCH_CLIENT_WRITES', ['batched', 'each']),
  };
}
