/**
 * `npm start`'s exit status, as a supervisor that restarts on failure sees it: 128 + the signal
 * for a relay killed by a signal nobody asked for, 0 after a stop it was asked for, whether the
 * signal went to npm alone or to the whole process group (Ctrl-C), and a stop handled once.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { constants } from 'node:os';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));

interface Started {
  npm: ChildProcess;
  /** The relay's own process (main.ts), from its `listening` log line. */
  relayPid: number;
  output: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

const running: ChildProcess[] = [];
afterEach(() => {
  for (const child of running.splice(0)) {
    try {
      process.kill(-child.pid!, 'SIGKILL'); // whatever of the group a failed test left behind
    } catch {
      // the group is gone already
    }
  }
});

/** `npm start` in its own process group (as a terminal runs it), on a free port, without the build. */
async function startNpm(): Promise<Started> {
  const npm = spawn('npm', ['start', '--', '--no-build'], {
    cwd: root,
    detached: true,
    env: { ...process.env, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.push(npm);
  const exited = once(npm, 'exit').then(([code, signal]) => ({
    code: code as number | null,
    signal: signal as NodeJS.Signals | null,
  }));
  let output = '';
  const relayPid = await new Promise<number>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const match = /"event":"listening"[^\n]*"pid":(\d+)/.exec(output);
      if (match) resolve(Number(match[1]));
    };
    npm.stdout!.on('data', onData);
    npm.stderr!.on('data', onData);
    void exited.then(({ code, signal }) =>
      reject(new Error(`npm start ended before listening (${code ?? signal}): ${output}`)),
    );
  });
  return { npm, relayPid, output: () => output, exited };
}

const shutdowns = (output: string) => output.match(/"event":"shutdown"/g)?.length ?? 0;

describe('npm start: exit status', () => {
  it('a relay killed with SIGKILL makes npm start exit with 137 (128 + 9)', async () => {
    const started = await startNpm();
    process.kill(started.relayPid, 'SIGKILL');
    expect(await started.exited).toEqual({ code: 128 + constants.signals.SIGKILL, signal: null });
  });

  it('SIGTERM to the whole process group: one graceful stop, exit 0', async () => {
    const started = await startNpm();
    process.kill(-started.npm.pid!, 'SIGTERM');
    expect(await started.exited).toEqual({ code: 0, signal: null });
    expect(shutdowns(started.output())).toBe(1);
    expect(started.output()).not.toMatch(/exiting now|could not close/);
  });

  it('SIGINT to the whole process group (Ctrl-C): one graceful stop, exit 0', async () => {
    const started = await startNpm();
    process.kill(-started.npm.pid!, 'SIGINT');
    expect(await started.exited).toEqual({ code: 0, signal: null });
    expect(shutdowns(started.output())).toBe(1);
    expect(started.output()).not.toMatch(/exiting now|could not close/);
  });

  it('SIGTERM to npm alone is forwarded to the relay: one graceful stop, exit 0', async () => {
    const started = await startNpm();
    process.kill(started.npm.pid!, 'SIGTERM');
    expect(await started.exited).toEqual({ code: 0, signal: null });
    expect(shutdowns(started.output())).toBe(1);
  });
});
