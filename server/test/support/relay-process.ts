/**
 * A relay in a process of its own (relay-node.ts), so that what /metrics says of its heap is
 * the relay's alone, and so that it can be killed. Settings come as environment variables.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

export interface RelayProcess {
  url: string;
  port: number;
  /** One sample from GET /metrics, by metric name (the first sample wins); throws if there is none. */
  metric(name: string): Promise<number>;
  /** A series with labels, as written in the exposition format (`duet_errors_total{code="x"}`); 0 if absent. */
  sample(series: string): Promise<number>;
  kill(signal?: NodeJS.Signals): Promise<void>;
}

export async function spawnRelay(env: Record<string, string> = {}): Promise<RelayProcess> {
  const script = fileURLToPath(new URL('./relay-node.ts', import.meta.url));
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', script], {
    env: { ...process.env, PORT: '0', HOST: '127.0.0.1', ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = once(child, 'exit');
  if (!child.stdout) throw new Error('no stdout');
  const [line] = (await once(createInterface({ input: child.stdout }), 'line')) as [string];
  const { url } = JSON.parse(line) as { url: string };
  const text = async () => (await fetch(`${url}/metrics`)).text();
  const find = (body: string, series: string) => {
    const line = body.split('\n').find((l) => l.startsWith(`${series} `) || l.startsWith(`${series}{`));
    if (line === undefined) throw new Error(`no metric ${series}`);
    return Number(line.slice(line.lastIndexOf(' ') + 1));
  };
  return {
    url,
    port: Number(new URL(url).port),
    metric: async (name) => find(await text(), name),
    sample: async (series) => {
      const line = (await text()).split('\n').find((l) => l.startsWith(`${series} `));
      return line === undefined ? 0 : Number(line.slice(series.length + 1));
    },
    async kill(signal = 'SIGKILL') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      await exited;
    },
  };
}
