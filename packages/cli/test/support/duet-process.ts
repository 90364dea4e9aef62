/**
 * The `duet` command run as a real process (bin/duet.mjs under this Node, with the options it
 * runs with: src/node-options.ts), with its output collected line by line so that tests wait on
 * what it printed, never on time.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { CLIENT_NODE_OPTIONS } from '../../src/node-options.ts';

const BIN = fileURLToPath(new URL('../../bin/duet.mjs', import.meta.url));
const WAIT_MS = 30_000;

export class DuetProcess {
  readonly stdout: string[] = [];
  readonly stderr: string[] = [];
  readonly exited: Promise<number | null>;
  readonly #child: ChildProcessWithoutNullStreams;
  readonly #waiters = new Set<() => void>();

  private constructor(child: ChildProcessWithoutNullStreams) {
    this.#child = child;
    this.#collect(child.stdout, this.stdout);
    this.#collect(child.stderr, this.stderr);
    this.exited = new Promise((resolve) => child.on('close', (code) => resolve(code)));
  }

  /**
   * Starts `duet ARGS`. `env` is added to a clean environment (no DUET_* from the caller). The
   * process has no controlling terminal (a new session), like a CI job: a passphrase prompt fails.
   */
  static start(args: string[], env: Record<string, string> = {}): DuetProcess {
    const base = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('DUET_')));
    const child = spawn(process.execPath, [...CLIENT_NODE_OPTIONS, BIN, ...args], {
      env: { ...base, ...env },
      detached: true,
    });
    return new DuetProcess(child);
  }

  /** Resolves with the first line of `stream` that matches, waiting for it if needed. */
  waitForLine(pattern: RegExp, stream: 'stdout' | 'stderr' = 'stdout'): Promise<string> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const line = this[stream].find((candidate) => pattern.test(candidate));
        if (line === undefined) return false;
        clearTimeout(timer);
        this.#waiters.delete(waiter);
        resolve(line);
        return true;
      };
      const waiter = () => void check();
      const timer = setTimeout(() => {
        this.#waiters.delete(waiter);
        reject(
          new Error(
            `no ${stream} line matched ${pattern}; ${stream} was:\n${this[stream].join('\n')}\nstderr:\n${this.stderr.join('\n')}`,
          ),
        );
      }, WAIT_MS);
      if (!check()) this.#waiters.add(waiter);
    });
  }

  write(line: string): void {
    this.#child.stdin.write(`${line}\n`);
  }

  end(): void {
    this.#child.stdin.end();
  }

  kill(): void {
    if (this.#child.exitCode === null) this.#child.kill('SIGKILL');
  }

  #collect(stream: NodeJS.ReadableStream, into: string[]): void {
    let partial = '';
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => {
      const parts = (partial + chunk).split('\n');
      partial = parts.pop() ?? '';
      into.push(...parts);
      for (const waiter of [...this.#waiters]) waiter();
    });
    stream.on('end', () => {
      if (partial) into.push(partial);
      for (const waiter of [...this.#waiters]) waiter();
    });
  }
}
