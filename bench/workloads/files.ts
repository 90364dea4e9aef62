/**
 * h. Files: one file (64 MiB by default) from a Node sender to a Node receiver, each in its own
 * process, streamed from and to disk, four ways:
 *   - `plainMinimal`: a bare `ws` binary stream of the same bytes through the minimal ws relay:
 *     the floor for Node + ws;
 *   - `plainDuet`: the same bare stream through Duet's relay (joined, raw binary frames) with its
 *     limits raised: what Duet's relay costs;
 *   - `duet`: core's file transfer (offer, `modern` channel, chunks, acks, SHA-256) between two
 *     Node clients through Duet's relay with its limits raised: what the whole of Duet costs;
 *   - `duetDefault`: core's file transfer through a relay at its default limits
 *     (BYTES_PER_SECOND 8 MiB/s): what people get. (No plain stream there: without end-to-end
 *     flow control it outruns its receiver by more than MAX_BUFFERED_BYTES, and the relay rightly
 *     drops that receiver as a slow reader, 1013.)
 * Variants take turns within each run. Each reports MiB/s (from `go` to the receiver's file
 * complete on disk, and for Duet verified), both sides' RSS growth over their ready state, and
 * the CPU time per MiB of each peer and of the relay: steadier than MiB/s on a shared machine,
 * and the figure that says which side a change made cheaper.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BenchConfig } from '../config.ts';
import type { PeerMessage, PeerOptions, PeerRole } from '../file-peer.ts';
import { RelayProcess } from '../relay-process.ts';
import { CLIENT_NODE_OPTIONS } from '@duet/cli/node-options';

const PEER_ENTRY = fileURLToPath(new URL('../file-peer.ts', import.meta.url));
const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));
const MiB = 1024 * 1024;

export const FILE_VARIANTS = ['plainMinimal', 'plainDuet', 'duet', 'duetDefault'] as const;
export type FileVariant = (typeof FILE_VARIANTS)[number];

/** Which relay each variant goes through, and whether it is a plain stream. */
const VARIANTS: Record<FileVariant, { relay: 'minimal' | 'duet' | 'duetDefault'; plain: boolean }> = {
  plainMinimal: { relay: 'minimal', plain: true },
  plainDuet: { relay: 'duet', plain: true },
  duet: { relay: 'duet', plain: false },
  duetDefault: { relay: 'duetDefault', plain: false },
};

export interface FileRun {
  variant: FileVariant;
  /** Which turn of the variants it ran in (0, 1, …): runs of one turn ran back to back. */
  turn: number;
  seconds: number;
  mibPerSecond: number;
  senderGrowthMiB: number;
  receiverGrowthMiB: number;
  senderPeakMiB: number;
  receiverPeakMiB: number;
  /** CPU time per MiB moved, in ms: each peer's process, and the relay's. */
  cpuMsPerMiB: CpuPerMiB;
}

export interface CpuPerMiB {
  sender: number;
  receiver: number;
  relay: number;
}

export interface FileSummary {
  runs: number;
  mibPerSecond: { median: number; min: number; max: number };
  senderGrowthMiB: { median: number; max: number };
  receiverGrowthMiB: { median: number; max: number };
  senderPeakMiB: number;
  receiverPeakMiB: number;
  /** Medians over the runs. */
  cpuMsPerMiB: CpuPerMiB;
}

export interface FileResult {
  sizeMiB: number;
  runs: FileRun[];
  summary: Partial<Record<FileVariant, FileSummary>>;
  /** Runs that failed (timed out, say), with the error: the others still count. */
  failures: { variant: FileVariant; error: string }[];
}

class Peer {
  readonly messages: PeerMessage[] = [];
  #waiters: (() => void)[] = [];
  readonly child: ChildProcess;

  constructor(role: PeerRole, options: PeerOptions, nodeFlags: readonly string[]) {
    this.child = spawn(
      process.execPath,
      [
        '--expose-gc',
        // The Duet peers are terminal clients: they run with the options the `duet` command
        // runs with. The plain peers are bare Node.
        ...(role.startsWith('duet') ? CLIENT_NODE_OPTIONS : []),
        ...nodeFlags,
        // BENCH_CPU_PROF: each peer writes its profile to <dir>/peers/<role>/ too.
        ...(process.env.BENCH_CPU_PROF
          ? ['--cpu-prof', '--cpu-prof-dir', join(process.env.BENCH_CPU_PROF, 'peers', role)]
          : []),
        '--import',
        'tsx',
        PEER_ENTRY,
        role,
        JSON.stringify(options),
      ],
      {
        cwd: REPO_ROOT,
        stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      },
    );
    this.child.on('message', (message: PeerMessage) => {
      this.messages.push(message);
      for (const wake of this.#waiters.splice(0)) wake();
    });
    this.child.on('exit', () => {
      for (const wake of this.#waiters.splice(0)) wake();
    });
  }

  /** The first message of `type`; rejects if the peer failed, exited or `deadline` passed. */
  async next<T extends PeerMessage['type']>(
    type: T,
    deadline: number,
  ): Promise<Extract<PeerMessage, { type: T }>> {
    for (;;) {
      const found = this.messages.find((m): m is Extract<PeerMessage, { type: T }> => m.type === type);
      if (found) return found;
      const failed = this.messages.find((m) => m.type === 'failed');
      if (failed?.type === 'failed') throw new Error(failed.error);
      if (this.child.exitCode !== null) throw new Error(`peer exited with ${this.child.exitCode}`);
      const left = deadline - performance.now();
      if (left <= 0) throw new Error(`no ${type} in time`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.#waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  send(message: { type: string }): void {
    if (this.child.connected) this.child.send(message);
  }

  /** Ends the peer: at once, or (profiling) by disconnecting, so that it writes its profile. */
  async stop(): Promise<void> {
    if (this.child.exitCode !== null) return;
    if (process.env.BENCH_CPU_PROF && this.child.connected) {
      const exited = new Promise((resolve) => this.child.once('exit', resolve));
      this.child.disconnect();
      const timer = setTimeout(() => this.child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
      return;
    }
    this.child.kill('SIGKILL');
  }
}

const mib = (bytes: number) => bytes / MiB;
const sha256 = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');

async function runOnce(
  variant: FileVariant,
  relays: Record<'minimal' | 'duet' | 'duetDefault', RelayProcess>,
  file: { path: string; size: number; sha256: string },
  deadline: number,
  nodeFlags: readonly string[],
): Promise<Omit<FileRun, 'turn'>> {
  const dir = mkdtempSync(join(tmpdir(), 'duet-bench-files-'));
  const room = `bench-${randomBytes(4).toString('hex')}`;
  const { relay, plain } = VARIANTS[variant];
  const url = `ws://127.0.0.1:${relays[relay].port}/${relay === 'minimal' ? '' : 'ws'}`;
  const kind = plain ? 'plain' : 'duet';
  const common = {
    url,
    relay: relay === 'minimal' ? ('minimal' as const) : ('duet' as const),
    room,
    size: file.size,
  };
  const receiver = new Peer(`${kind}-receive`, { ...common, path: dir }, nodeFlags);
  const sender = new Peer(`${kind}-send`, { ...common, path: file.path }, nodeFlags);
  try {
    await Promise.all([receiver.next('ready', deadline), sender.next('ready', deadline)]);
    const relayCpuBefore = await relays[relay].cpuMicros();
    const started = performance.now();
    sender.send({ type: 'go' });
    const done = await receiver.next('done', deadline);
    const seconds = (performance.now() - started) / 1000;
    const relayCpuMs = ((await relays[relay].cpuMicros()) - relayCpuBefore) / 1000;
    const [sent, received] = await Promise.all([
      sender.next('memory', deadline),
      receiver.next('memory', deadline),
    ]);
    if (!done.path || sha256(done.path) !== file.sha256)
      throw new Error(`${variant}: the file arrived altered`);
    return {
      variant,
      seconds,
      mibPerSecond: mib(file.size) / seconds,
      senderGrowthMiB: mib(sent.peakRss - sent.readyRss),
      receiverGrowthMiB: mib(received.peakRss - received.readyRss),
      senderPeakMiB: mib(sent.peakRss),
      receiverPeakMiB: mib(received.peakRss),
      cpuMsPerMiB: {
        sender: sent.cpuMs / mib(file.size),
        receiver: received.cpuMs / mib(file.size),
        relay: relayCpuMs / mib(file.size),
      },
    };
  } finally {
    await Promise.all([sender.stop(), receiver.stop()]);
    rmSync(dir, { recursive: true, force: true });
  }
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

function summarise(runs: FileRun[]): FileSummary {
  const speeds = runs.map((r) => r.mibPerSecond);
  return {
    runs: runs.length,
    mibPerSecond: { median: median(speeds), min: Math.min(...speeds), max: Math.max(...speeds) },
    senderGrowthMiB: {
      median: median(runs.map((r) => r.senderGrowthMiB)),
      max: Math.max(...runs.map((r) => r.senderGrowthMiB)),
    },
    receiverGrowthMiB: {
      median: median(runs.map((r) => r.receiverGrowthMiB)),
      max: Math.max(...runs.map((r) => r.receiverGrowthMiB)),
    },
    senderPeakMiB: Math.max(...runs.map((r) => r.senderPeakMiB)),
    receiverPeakMiB: Math.max(...runs.map((r) => r.receiverPeakMiB)),
    cpuMsPerMiB: {
      sender: median(runs.map((r) => r.cpuMsPerMiB.sender)),
      receiver: median(runs.map((r) => r.cpuMsPerMiB.receiver)),
      relay: median(runs.map((r) => r.cpuMsPerMiB.relay)),
    },
  };
}

export async function runFiles(config: BenchConfig): Promise<FileResult> {
  const dir = mkdtempSync(join(tmpdir(), 'duet-bench-source-'));
  const path = join(dir, 'source.bin');
  const size = config.fileMiB * MiB;
  const content = randomBytes(size);
  writeFileSync(path, content);
  const file = { path, size, sha256: createHash('sha256').update(content).digest('hex') };
  const relays: RelayProcess[] = [];
  try {
    const start = async (...args: Parameters<typeof RelayProcess.start>) => {
      const relay = await RelayProcess.start(...args);
      relays.push(relay);
      return relay;
    };
    const started = {
      minimal: await start('minimal-ws', config.cpuProfDir),
      duet: await start('duet', config.cpuProfDir),
      duetDefault: await start('duet', undefined, { BENCH_DUET_DEFAULT_LIMITS: '1' }),
    };
    const runs: FileRun[] = [];
    const failures: FileResult['failures'] = [];
    for (let run = 0; run < config.fileRuns; run++) {
      const order = run % 2 === 0 ? config.fileVariants : [...config.fileVariants].reverse();
      for (const variant of order) {
        try {
          // Each run has the workload's whole time limit.
          const deadline = performance.now() + config.workloadTimeoutMs;
          runs.push({
            ...(await runOnce(variant, started, file, deadline, config.fileNodeFlags)),
            turn: run,
          });
        } catch (error) {
          failures.push({ variant, error: error instanceof Error ? error.message : String(error) });
        }
      }
    }
    const summary: FileResult['summary'] = {};
    for (const variant of FILE_VARIANTS) {
      const of = runs.filter((r) => r.variant === variant);
      if (of.length > 0) summary[variant] = summarise(of);
    }
    return { sizeMiB: config.fileMiB, runs, summary, failures };
  } finally {
    await Promise.all(relays.map((relay) => relay.stop()));
    rmSync(dir, { recursive: true, force: true });
  }
}
