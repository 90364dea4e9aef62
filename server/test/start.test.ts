/**
 * `npm start`'s exit status, as a supervisor that restarts on failure sees it: 128 + the signal
 * for a relay killed by a signal nobody asked for, 0 after a stop it was asked for, whether the
 * signal went to npm alone or to the whole process group (Ctrl-C), and a stop handled once.
 */
import { constants } from 'node:os';
import { afterEach, describe, expect, it } from 'vitest';
import { startNpm as start, type NpmStart } from './support/npm-start.ts';

const running: NpmStart[] = [];
afterEach(() => {
  for (const started of running.splice(0)) started.killGroup(); // whatever a failed test left
});

async function startNpm(): Promise<NpmStart> {
  const started = await start();
  running.push(started);
  return started;
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
