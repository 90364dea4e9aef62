/**
 * Entry of a relay's own process: `node --expose-gc --import tsx relay-child.ts <relay>`.
 * Prints `port <n>` on stdout once listening, then answers the parent over IPC:
 *   { type: 'usage', gc: true }  →  { type: 'usage', memory, cpu } (after forcing GC)
 *   { type: 'stop' }             →  closes the relay (at most 2 s) and exits 0
 * Only the relay named on the command line is imported, so its memory is its own.
 */
import type { RelayName } from './config.ts';
import type { BenchRelay } from './relay-types.ts';

export type ParentMessage = { type: 'usage'; gc: boolean } | { type: 'stop' };
export type ChildMessage = { type: 'usage'; memory: NodeJS.MemoryUsage; cpu: NodeJS.CpuUsage };

const START: Record<RelayName, () => Promise<BenchRelay>> = {
  duet: async () => (await import('./duet-relay.ts')).startDuetRelay(),
  'minimal-ws': async () => (await import('./baselines/minimal-ws.ts')).startMinimalWsRelay(),
  'socket.io': async () => (await import('./baselines/socketio.ts')).startSocketIoRelay(),
};

function isRelayName(name: string | undefined): name is RelayName {
  return name !== undefined && Object.hasOwn(START, name);
}

/** Full collections until the heap stops shrinking (at most 5). */
function collect(): void {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error('start the relay child with --expose-gc');
  let before = Infinity;
  for (let i = 0; i < 5 && process.memoryUsage().heapUsed < before; i++) {
    before = process.memoryUsage().heapUsed;
    gc();
  }
}

async function main(): Promise<void> {
  const name = process.argv[2];
  if (!isRelayName(name)) throw new Error(`usage: relay-child.ts <${Object.keys(START).join('|')}>`);
  if (!process.send) throw new Error('relay-child.ts must be started with an IPC channel');
  const relay = await START[name]();

  process.on('message', (message: ParentMessage) => {
    switch (message.type) {
      case 'usage': {
        if (message.gc) collect();
        const reply: ChildMessage = { type: 'usage', memory: process.memoryUsage(), cpu: process.cpuUsage() };
        process.send?.(reply);
        return;
      }
      case 'stop': {
        const stopped = Promise.race([relay.close(), new Promise((resolve) => setTimeout(resolve, 2_000))]);
        void stopped.finally(() => process.exit(0));
        return;
      }
      default: {
        const unknown: never = message;
        throw new Error(`unknown message ${JSON.stringify(unknown)}`);
      }
    }
  });
  process.on('disconnect', () => process.exit(0)); // the bench went away: never linger
  process.stdout.write(`port ${relay.port}\n`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
