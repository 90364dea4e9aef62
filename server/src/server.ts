/** Starts the HTTP server and the relay on one port; used by main.ts and by the tests. */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { resolveConfig, type Config } from './config.ts';
import { hostRules } from './host-check.ts';
import { createHttpApp } from './http.ts';
import { generateRoomCode } from '@duet/core/protocol/codes';
import { shareLink } from '@duet/core/protocol/share-link';
import {
  parseGatewayAddress,
  SEED_SALT_HEX,
  startSeedGateway,
  type SeedGateway,
} from './gateway/seed-gateway.ts';
import type { Logger } from 'pino';
import { MAX_FRAME_BYTES as LARGEST_CLIENT_FRAME_BYTES } from '@duet/core/crypto/modern-frame';
import { createLogger, logObserver } from './log.ts';
import { createMetrics } from './metrics.ts';
import { fanOut } from './observer.ts';
import { connectScaleOut } from './redis/scale-out.ts';
import { createRelay, type RelayStats } from './relay.ts';

/** The built web app, relative to the repository root. */
export const DEFAULT_STATIC_DIR = fileURLToPath(new URL('../../web/dist', import.meta.url));

export interface StartOptions extends Partial<Config> {
  /** Directory served at `/` (its index.html for `/`); default web/dist. */
  staticDir?: string;
  /** The relay's clock, for tests of its limits. */
  now?: () => number;
  /** For tests that use error replies as markers: see RelayOptions. */
  errorNoticeMs?: number;
  /** Where logs go; default: pino on stdout at `logLevel`. */
  logger?: Logger;
}

export interface RunningServer {
  /** `http://host:port`, with the port actually bound. */
  url: string;
  port: number;
  /** With SEED_GATEWAY: where the gateway listens, its room, and the link a browser joins it with. */
  seedGateway?: { host: string; port: number; room: string; link: string };
  stats(): RelayStats;
  logger: Logger;
  /** Closes every WebSocket with 1001 (going away), then the HTTP server; resolves when all is closed. */
  close(): Promise<void>;
}

/**
 * Starts Duet: settings are the defaults overlaid with `options`, validated (throws on a bad
 * one). `port: 0` binds a free port; the returned `url` and `port` say which.
 */
export async function startServer(options: StartOptions = {}): Promise<RunningServer> {
  const { staticDir = DEFAULT_STATIC_DIR, now, errorNoticeMs, logger, ...settings } = options;
  const config = resolveConfig(settings);
  const log = logger ?? createLogger(config.logLevel);
  if (config.maxFrameBytes < LARGEST_CLIENT_FRAME_BYTES) {
    // The relay never reads payloads, but a file chunk larger than this closes its sender's
    // connection (1009) every time it is sent again: say so once, at start.
    log.warn(
      { event: 'small-frames', maxFrameBytes: config.maxFrameBytes, needed: LARGEST_CLIENT_FRAME_BYTES },
      `MAX_FRAME_BYTES is below ${LARGEST_CLIENT_FRAME_BYTES}: file transfers will fail`,
    );
  }
  let ready = false;
  // The relay is created first; the metrics read its counts lazily, at scrape time.
  let stats: () => RelayStats = () => ({ connections: 0, rooms: 0 });
  let gateway: SeedGateway | undefined;
  const metrics = createMetrics(
    () => stats(),
    () => gateway?.connections() ?? 0,
  );
  // With REDIS_URL, rooms are shared with the other nodes (docs/scale-out.md).
  const scaleOut = config.redisUrl ? await connectScaleOut(config, log) : undefined;
  const hosts = hostRules(config);
  const relay = createRelay({
    ...config,
    hostRules: hosts,
    ...(now ? { now } : {}),
    ...(errorNoticeMs === undefined ? {} : { errorNoticeMs }),
    observer: fanOut(metrics.observer, logObserver(log)),
    ...(scaleOut ? { bus: scaleOut.bus, directory: scaleOut.directory } : {}),
  });
  await scaleOut?.start();
  stats = () => relay.stats();
  const app = createHttpApp({
    staticDir,
    health: () => (!ready ? 'starting' : scaleOut && !scaleOut.reachable() ? 'redis-unreachable' : 'ok'),
    metrics: metrics.registry,
    metricsPublic: config.metricsPublic,
    trustProxy: config.trustProxy,
    hostRules: hosts,
    clientConfig: { iceServers: config.iceServers, maxFrameBytes: config.maxFrameBytes },
  });
  const server = createServer(app);
  server.on('upgrade', (request, socket, head) => relay.handleUpgrade(request, socket, head));

  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(config.port, config.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (error) {
    await relay.close();
    await scaleOut?.quit();
    throw error;
  }
  const { port } = server.address() as AddressInfo;
  const host = config.host.includes(':') ? `[${config.host}]` : config.host;
  const url = `http://${host}:${port}`;
  const gatewayAddress = parseGatewayAddress(config.seedGateway);
  if (gatewayAddress) {
    try {
      gateway = await startSeedGateway(relay, {
        address: gatewayAddress,
        room: config.seedGatewayRoom || generateRoomCode(),
        maxFrameBytes: config.maxFrameBytes,
        closeGraceMs: config.closeGraceMs,
        heartbeatMs: config.heartbeatMs,
        observer: metrics.gateway,
      });
    } catch (error) {
      await relay.close();
      await scaleOut?.quit();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      throw error;
    }
  }
  ready = true;

  let closed: Promise<void> | undefined;
  return {
    url,
    port,
    ...(gateway
      ? {
          seedGateway: {
            host: gateway.host,
            port: gateway.port,
            room: gateway.room,
            link: shareLink(new URL(url), { room: gateway.room, suite: 'des', saltHex: SEED_SALT_HEX }),
          },
        }
      : {}),
    stats: () => relay.stats(),
    logger: log,
    close() {
      closed ??= (async () => {
        ready = false;
        const httpClosed = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeIdleConnections();
        const gatewayClosed = gateway?.close();
        await relay.close();
        await gatewayClosed;
        await scaleOut?.quit();
        server.closeAllConnections();
        await httpClosed;
      })();
      return closed;
    },
  };
}
