/** Starts the HTTP server and the relay on one port; used by main.ts and by the tests. */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { DEFAULT_CONFIG, type Config } from './config.ts';
import { createHttpApp } from './http.ts';
import { createRelay, type RelayStats } from './relay.ts';

export const DEFAULT_STATIC_DIR = fileURLToPath(new URL('../../web/dist', import.meta.url));

export interface StartOptions extends Partial<Config> {
  staticDir?: string;
  /** The relay's clock, for tests of its limits. */
  now?: () => number;
}

export interface RunningServer {
  /** http://host:port, with the port actually bound. */
  url: string;
  port: number;
  stats(): RelayStats;
  /** Closes every WebSocket with 1001 (going away), then the HTTP server. */
  close(): Promise<void>;
}

export async function startServer(options: StartOptions = {}): Promise<RunningServer> {
  const config: Config = { ...DEFAULT_CONFIG, ...options };
  let accepting = false;
  const relay = createRelay({ ...config, ...(options.now ? { now: options.now } : {}) });
  const app = createHttpApp({ staticDir: options.staticDir ?? DEFAULT_STATIC_DIR, isReady: () => accepting });
  const server = createServer(app);
  server.on('upgrade', (request, socket, head) => relay.handleUpgrade(request, socket, head));

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host, () => resolve());
  });
  accepting = true;
  const { port } = server.address() as AddressInfo;
  const host = config.host.includes(':') ? `[${config.host}]` : config.host;

  return {
    url: `http://${host}:${port}`,
    port,
    stats: () => relay.stats(),
    async close() {
      accepting = false;
      const httpClosed = new Promise<void>((resolve) => server.close(() => resolve()));
      await relay.close();
      server.closeAllConnections();
      await httpClosed;
    },
  };
}
