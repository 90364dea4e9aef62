/**
 * Workload d: memory per idle connection. In a fresh relay process: force GC and read its
 * memory, open `connections` sockets (rooms of two, every pair seated and ready), let them
 * sit, force GC again and read again. The difference over the count is the cost of one idle
 * connection in the relay (RSS: what the OS sees; heap: V8's live objects).
 */
import { closePairs, connectorFor, connectPairs } from '../clients.ts';
import type { RelayName } from '../config.ts';
import { RelayProcess } from '../relay-process.ts';

export interface IdleOptions {
  connections: number;
  connectBatch: number;
  /** Pause between the last connection and the second reading. */
  settleMs: number;
  timeoutMs: number;
}

export interface IdleResult {
  connections: number;
  rssKiBPerConnection: number;
  heapKiBPerConnection: number;
  /** Buffers outside the V8 heap (`external`), per connection. */
  externalKiBPerConnection: number;
  rssBeforeMiB: number;
  rssAfterMiB: number;
  connectSeconds: number;
}

const KIB = 1024;
const MIB = 1024 * 1024;

export async function runIdle(relay: RelayName, options: IdleOptions): Promise<IdleResult> {
  const server = await RelayProcess.start(relay);
  try {
    const before = await server.usage(true);
    const startedAt = performance.now();
    const pairs = await connectPairs(
      connectorFor(relay, server.port),
      options.connections / 2,
      options.connectBatch,
      startedAt + options.timeoutMs,
    );
    const connectSeconds = (performance.now() - startedAt) / 1000;
    try {
      await new Promise((resolve) => setTimeout(resolve, options.settleMs));
      const after = await server.usage(true);
      const per = (key: 'rss' | 'heapUsed' | 'external'): number =>
        (after.memory[key] - before.memory[key]) / KIB / options.connections;
      return {
        connections: options.connections,
        rssKiBPerConnection: per('rss'),
        heapKiBPerConnection: per('heapUsed'),
        externalKiBPerConnection: per('external'),
        rssBeforeMiB: before.memory.rss / MIB,
        rssAfterMiB: after.memory.rss / MIB,
        connectSeconds,
      };
    } finally {
      closePairs(pairs);
    }
  } finally {
    await server.stop();
  }
}
