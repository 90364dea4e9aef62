/**
 * `npm start` as a terminal runs it: in a process group of its own, here without the web
 * build. Resolves once the relay logs that it listens (at LOG_LEVEL info or lower), with the
 * relay's own pid.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../..', import.meta.url));

export interface NpmStart {
  npm: ChildProcess;
  /** The relay's own process (server/src/main.ts), from its `listening` log line. */
  relayPid: number;
  url: string;
  output: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Kills whatever is left of the process group (after a test). */
  killGroup(): void;
}

export async function startNpm(env: Record<string, string> = {}): Promise<NpmStart> {
  const npm = spawn('npm', ['start', '--', '--no-build'], {
    cwd: root,
    detached: true,
    env: { ...process.env, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = once(npm, 'exit').then(([code, signal]) => ({
    code: code as number | null,
    signal: signal as NodeJS.Signals | null,
  }));
  let output = '';
  const listening = await new Promise<{ pid: number; url: string }>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const line = output.split('\n').find((l) => l.includes('"event":"listening"'));
      if (line && line.endsWith('}')) {
        const { pid, url } = JSON.parse(line) as { pid: number; url: string };
        resolve({ pid, url });
      }
    };
    npm.stdout!.on('data', onData);
    npm.stderr!.on('data', onData);
    void exited.then(({ code, signal }) =>
      reject(new Error(`npm start ended before listening (${code ?? signal}): ${output}`)),
    );
    setTimeout(() => reject(new Error(`npm start did not listen within 60 s: ${output}`)), 60_000).unref();
  });
  return {
    npm,
    relayPid: listening.pid,
    url: listening.url,
    output: () => output,
    exited,
    killGroup() {
      try {
        process.kill(-npm.pid!, 'SIGKILL');
      } catch {
        // the group is gone already
      }
    },
  };
}
