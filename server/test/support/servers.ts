/** Relays for the tests: loopback, a free port, nothing served over HTTP; closed after the tests. */
import { afterAll, afterEach, beforeAll } from 'vitest';
import { startServer, type RunningServer, type StartOptions } from '../../src/server.ts';

export function startTestServer(options: StartOptions = {}): Promise<RunningServer> {
  return startServer({ port: 0, host: '127.0.0.1', staticDir: '/nonexistent', ...options });
}

/** `serve(options)` starts a relay for one test; every one started is closed after that test. */
export function useServers(): (options?: StartOptions) => Promise<RunningServer> {
  const servers: RunningServer[] = [];
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((server) => server.close()));
  });
  return async (options = {}) => {
    const server = await startTestServer(options);
    servers.push(server);
    return server;
  };
}

/** One relay for the whole file, started before its tests and closed after them. */
export function useServer(options: StartOptions = {}): () => RunningServer {
  let server: RunningServer | undefined;
  beforeAll(async () => {
    server = await startTestServer(options);
  });
  afterAll(async () => {
    await server?.close();
  });
  return () => {
    if (!server) throw new Error('the relay is not started');
    return server;
  };
}
