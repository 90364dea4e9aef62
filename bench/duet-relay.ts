/**
 * Duet's relay as the bench runs it: the real `startServer`, with the per-connection rate and
 * connection limits raised so that they never cut in (the bench measures the relay's cost, not
 * its limits). `BENCH_DUET_SERVER` may name another server.ts, to compare two versions.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { BenchRelay } from './relay-types.ts';

type ServerModule = typeof import('../server/src/server.ts');

export async function startDuetRelay(): Promise<BenchRelay> {
  const override = process.env.BENCH_DUET_SERVER;
  const url = override ? pathToFileURL(resolve(override)).href : '../server/src/server.ts';
  const { startServer } = (await import(url)) as ServerModule;
  const server = await startServer({
    port: 0,
    host: '127.0.0.1',
    // Nothing is served over HTTP in the bench: an empty directory.
    staticDir: mkdtempSync(join(tmpdir(), 'duet-bench-static-')),
    // BENCH_DUET_DEFAULT_LIMITS=1 keeps the per-connection rates at their defaults (workload h).
    ...(process.env.BENCH_DUET_DEFAULT_LIMITS === '1'
      ? {}
      : {
          messageBurst: 1_000_000_000,
          messagesPerSecond: 1_000_000_000,
          byteBurst: 1_000_000_000_000,
          bytesPerSecond: 1_000_000_000_000,
          // A plain stream (workload h) has no end-to-end window: let its receiver fall behind.
          maxBufferedBytes: 256 * 1024 * 1024,
        }),
    maxConnections: 20_000,
    maxConnectionsPerIp: 20_000,
    maxRooms: 10_000,
    // Set by the scale-out workload: this node shares rooms with the others through Redis.
    ...(process.env.BENCH_REDIS_URL ? { redisUrl: process.env.BENCH_REDIS_URL } : {}),
  });
  return { port: server.port, close: () => server.close() };
}
