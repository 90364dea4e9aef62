/** Wires a relay node to Redis (docs/scale-out.md): two connections, the bus and the directory. */
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { Config } from '../config.ts';
import type { DirectoryEvents } from '../directory.ts';
import type { Bus } from '../envelope.ts';
import { redisBus } from './bus.ts';
import { RedisRoomDirectory } from './directory.ts';

export interface ScaleOut {
  node: string;
  bus: Bus;
  directory: (events: DirectoryEvents) => RedisRoomDirectory;
  /** Registers the node in Redis once the relay has its directory. */
  start(): Promise<void>;
  /** Both connections to Redis are up (ioredis reconnects by itself when they drop). */
  reachable(): boolean;
  /** Closes both Redis connections; after the relay's close. */
  quit(): Promise<void>;
}

export async function connectScaleOut(config: Config, log: Logger): Promise<ScaleOut> {
  const node = config.nodeId || randomBytes(6).toString('hex');
  const connect = () => {
    const client = new Redis(config.redisUrl, { lazyConnect: true, maxRetriesPerRequest: 2 });
    // The URL may hold a password: log the error's name and code only.
    client.on('error', (error: Error & { code?: string }) =>
      log.warn({ event: 'redis-error', name: error.name, code: error.code }, 'redis connection error'),
    );
    return client;
  };
  const commands = connect();
  const subscriber = connect();
  await Promise.all([commands.connect(), subscriber.connect()]);
  const bus = await redisBus(node, commands, subscriber);
  let directory: RedisRoomDirectory | undefined;
  return {
    node,
    bus,
    directory(events) {
      directory = new RedisRoomDirectory({ ...config, redis: commands, node }, events, (error) =>
        log.warn({ event: 'redis-sweep-failed', name: error instanceof Error ? error.name : typeof error }),
      );
      return directory;
    },
    async start() {
      await directory?.start();
    },
    reachable: () => commands.status === 'ready' && subscriber.status === 'ready',
    async quit() {
      await Promise.all([commands.quit(), subscriber.quit()]);
    },
  };
}
