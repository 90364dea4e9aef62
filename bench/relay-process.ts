/**
 * The bench's handle on one relay child process (relay-child.ts): start it, read its port,
 * ask for its memory and CPU time, stop it. Each relay runs alone in its process so that its
 * memory is its own and the load generator never shares its event loop.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { RelayName } from './config.ts';
import type { ChildMessage, ParentMessage } from './relay-child.ts';

const CHILD_ENTRY = fileURLToPath(new URL('./relay-child.ts', import.meta.url));
const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url));
const START_TIMEOUT_MS = 30_000;
const REPLY_TIMEOUT_MS = 30_000;

/** Clock ticks per second in /proc/<pid>/stat (USER_HZ), read once. */
let clockTicks: number | undefined;

function ticksPerSecond(): number {
  if (clockTicks === undefined) {
    try {
      clockTicks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      clockTicks = 100;
    }
  }
  return clockTicks;
}

/** utime + stime of a process from /proc (Linux), in microseconds; undefined elsewhere. */
export function procCpuMicros(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces), from field 3 on: utime is 14, stime 15.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]);
    return Number.isFinite(ticks) ? (ticks * 1e6) / ticksPerSecond() : undefined;
  } catch {
    return undefined;
  }
}

export interface Usage {
  memory: NodeJS.MemoryUsage;
  cpu: NodeJS.CpuUsage;
}

export class RelayProcess {
  private constructor(
    readonly name: RelayName,
    readonly port: number,
    private readonly child: ChildProcess,
  ) {}

  /** Spawns the child; with `cpuProfDir`, under --cpu-prof, writing to `<cpuProfDir>/<name>/` when it stops. */
  static async start(
    name: RelayName,
    cpuProfDir?: string,
    env: Record<string, string> = {},
  ): Promise<RelayProcess> {
    const flags = ['--expose-gc', '--import', 'tsx'];
    // One file per thread (tsx's loader runs in a worker too): the relay's is the largest.
    if (cpuProfDir) flags.push('--cpu-prof', `--cpu-prof-dir=${join(cpuProfDir, name)}`);
    const child = spawn(process.execPath, [...flags, CHILD_ENTRY, name], {
      cwd: REPO_ROOT,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
    });
    const port = await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`${name}: no port within ${START_TIMEOUT_MS} ms`)),
        START_TIMEOUT_MS,
      );
      let output = '';
      child.stdout?.on('data', (chunk: Buffer) => {
        output += chunk.toString('utf8');
        const match = /^port (\d+)$/m.exec(output);
        if (match?.[1]) {
          clearTimeout(timer);
          resolve(Number(match[1]));
        }
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`${name}: relay child exited with ${code} before listening`));
      });
    });
    return new RelayProcess(name, port, child);
  }

  /** Memory (after forcing GC in the child when `gc`) and CPU time used so far. */
  usage(gc = false): Promise<Usage> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.child.off('message', onMessage);
        reject(new Error(`${this.name}: no usage report within ${REPLY_TIMEOUT_MS} ms`));
      }, REPLY_TIMEOUT_MS);
      const onMessage = (message: ChildMessage): void => {
        if (message.type !== 'usage') return;
        clearTimeout(timer);
        this.child.off('message', onMessage);
        resolve({ memory: message.memory, cpu: message.cpu });
      };
      this.child.on('message', onMessage);
      this.send({ type: 'usage', gc });
    });
  }

  /**
   * CPU time (user + system) the relay has used so far, in microseconds. From /proc on Linux:
   * read at once, however busy the relay is (10 ms resolution); elsewhere asked over IPC, which
   * a saturated relay answers late.
   */
  async cpuMicros(): Promise<number> {
    const fromProc = procCpuMicros(this.child.pid);
    if (fromProc !== undefined) return fromProc;
    const { cpu } = await this.usage();
    return cpu.user + cpu.system;
  }

  /** Asks the child to close its relay and exit; kills it if it has not within 5 s. */
  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = once(this.child, 'exit');
    this.send({ type: 'stop' });
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 5_000);
    await exited;
    clearTimeout(timer);
  }

  private send(message: ParentMessage): void {
    this.child.send(message);
  }
}
