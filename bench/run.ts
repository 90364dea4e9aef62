/**
 * `npm run bench`: Duet's relay against two baselines (a minimal `ws` relay, a socket.io relay)
 * on the same workloads in the same run, then the suites' crypto. Each relay runs in its own
 * child process; the load clients run here. Prints a table and writes bench/results/latest.json.
 * docs/benchmarks.md explains the workloads and how to read the ratios; config.ts the sizes.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { configFromEnv, type BenchConfig, type RelayName, type WorkloadName } from './config.ts';
import { pingPongAll, streamAll } from './contest.ts';
import { machineBusyMicros } from './machine-load.ts';
import { RelayProcess } from './relay-process.ts';
import {
  computeRatios,
  describeMachine,
  formatReport,
  type BenchResults,
  type Ratio,
  type RelayResults,
} from './report.ts';
import { runConversation } from './workloads/conversation.ts';
import { runCrypto } from './workloads/crypto.ts';
import { runFiles } from './workloads/files.ts';
import { runScaleOut } from './workloads/scale-out.ts';
import { runIdle } from './workloads/idle.ts';

const RESULTS_DIR = fileURLToPath(new URL('./results/', import.meta.url));
/** Lets closed connections settle between workloads. */
const PAUSE_MS = 300;

const pause = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, PAUSE_MS));

/** Fails early when the open-file limit cannot hold the idle workload's sockets. */
function checkOpenFileLimit(config: BenchConfig): void {
  if (!config.workloads.includes('idle')) return;
  let limits: string;
  try {
    limits = readFileSync('/proc/self/limits', 'utf8');
  } catch {
    return; // not Linux: trust the user
  }
  const soft = Number(/^Max open files\s+(\d+)/m.exec(limits)?.[1]);
  const needed = config.idleConnections + 1_000;
  if (soft < needed) {
    throw new Error(
      `the open-file limit is ${soft}; the idle workload needs about ${needed}. ` +
        `Raise it (ulimit -n ${needed}) or lower BENCH_IDLE_CONNECTIONS.`,
    );
  }
}

/** CPU that other processes use, as a share of one core, over `ms` of doing nothing here. */
async function backgroundLoad(ms = 1_000): Promise<number> {
  const machine = machineBusyMicros();
  const own = process.cpuUsage();
  await new Promise((resolve) => setTimeout(resolve, ms));
  const ownMicros = process.cpuUsage(own);
  return Math.max(
    0,
    (100 * (machineBusyMicros() - machine - ownMicros.user - ownMicros.system)) / (ms * 1000),
  );
}

/** Runs one step with a progress line and its duration. */
async function step(label: string, body: () => Promise<void>): Promise<void> {
  process.stdout.write(`${label}... `);
  const started = performance.now();
  await body();
  process.stdout.write(`${((performance.now() - started) / 1000).toFixed(1)} s\n`);
}

/** Workloads a–c: every relay alive at once, in its own process, measured in turns. */
async function networkWorkloads(config: BenchConfig, relays: Record<RelayName, RelayResults>): Promise<void> {
  const has = (workload: WorkloadName): boolean => config.workloads.includes(workload);
  if (!has('pingpong') && !has('stream-b') && !has('stream-c')) return;
  const running: RelayProcess[] = [];
  try {
    for (const name of config.relays) {
      running.push(await RelayProcess.start(name, config.cpuProfDir));
    }
    if (has('pingpong')) {
      await step('a  ping-pong', () => pingPongAll(running, config, relays));
      await pause();
    }
    if (has('stream-b')) {
      await step(`b  ${config.pairsB} pairs`, () =>
        streamAll(running, 'stream-b', config.pairsB, config.durationBMs, config.slicesB, config, relays),
      );
      await pause();
    }
    if (has('stream-c')) {
      await step(`c  ${config.pairsC} pairs`, () =>
        streamAll(running, 'stream-c', config.pairsC, config.durationCMs, config.slicesC, config, relays),
      );
      await pause();
    }
  } finally {
    await Promise.all(running.map((relay) => relay.stop()));
  }
}

/** Workload d: one fresh relay process at a time, so that each is measured from its own start. */
async function idleWorkload(config: BenchConfig, relays: Record<RelayName, RelayResults>): Promise<void> {
  if (!config.workloads.includes('idle')) return;
  for (const name of config.relays) {
    await step(`d  ${config.idleConnections} idle, ${name}`, async () => {
      try {
        relays[name].idle = await runIdle(name, {
          connections: config.idleConnections,
          connectBatch: config.connectBatch,
          settleMs: 1_000,
          timeoutMs: config.workloadTimeoutMs,
        });
      } catch (error) {
        relays[name].errors.idle = error instanceof Error ? error.message : String(error);
      }
    });
    await pause();
  }
}

async function main(): Promise<void> {
  const config = configFromEnv();
  checkOpenFileLimit(config);
  const background = await backgroundLoad();
  if (background > 25) {
    console.warn(`warning: other processes use ${background.toFixed(0)} % of a core; figures will be noisy`);
  }
  const started = performance.now();
  const relays = Object.fromEntries(config.relays.map((name) => [name, { errors: {} }])) as Record<
    RelayName,
    RelayResults
  >;
  const results: BenchResults = {
    startedAt: new Date().toISOString(),
    elapsedSeconds: 0,
    machine: describeMachine(),
    backgroundCpuPercent: background,
    config,
    relays,
    ratios: [],
  };

  const ratioRuns: Ratio[][] = [];
  for (let run = 1; run <= config.repeat; run += 1) {
    if (config.repeat > 1) console.log(`run ${run} of ${config.repeat} (workloads a–c)`);
    // Each run is measured afresh (a relay that failed once is tried again); the table shows the last.
    for (const name of config.relays) relays[name] = { errors: {} };
    await networkWorkloads(config, relays);
    ratioRuns.push(computeRatios(relays));
  }
  await idleWorkload(config, relays);
  if (config.workloads.includes('crypto')) {
    await step('e  crypto', async () => {
      try {
        results.crypto = await runCrypto(config.cryptoMs);
      } catch (error) {
        results.cryptoError = error instanceof Error ? error.message : String(error);
      }
    });
  }

  if (config.workloads.includes('scale-out')) {
    await step('f  scale-out (one node, two nodes + Redis)', async () => {
      try {
        results.scaleOut = await runScaleOut(config);
      } catch (error) {
        results.scaleOutError = error instanceof Error ? error.message : String(error);
      }
    });
  }

  if (config.workloads.includes('conversation')) {
    await step(`g  conversation, ${config.conversationMessages} messages per suite`, async () => {
      try {
        results.conversation = await runConversation(config.conversationMessages, config.workloadTimeoutMs);
      } catch (error) {
        results.conversationError = error instanceof Error ? error.message : String(error);
      }
    });
  }

  if (config.workloads.includes('files')) {
    await step(`h  a ${config.fileMiB} MiB file, ${config.fileRuns} runs each`, async () => {
      try {
        results.files = await runFiles(config);
      } catch (error) {
        results.filesError = error instanceof Error ? error.message : String(error);
      }
    });
  }

  results.ratios = computeRatios(relays, results.files);
  if (config.repeat > 1) results.ratioRuns = ratioRuns;
  results.elapsedSeconds = (performance.now() - started) / 1000;
  console.log(`\n${formatReport(results)}`);
  mkdirSync(RESULTS_DIR, { recursive: true });
  writeFileSync(`${RESULTS_DIR}latest.json`, `${JSON.stringify(results, null, 2)}\n`);
  console.log('results: bench/results/latest.json');
  if (config.cpuProfDir) {
    console.log(`CPU profiles: ${config.cpuProfDir}/<relay>/ (npx tsx bench/profile.ts <the largest file>)`);
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
