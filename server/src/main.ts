/**
 * `npm start` runs this: settings from the environment, then serve until SIGTERM or SIGINT.
 *
 * A stop is handled once however often its signal arrives: Ctrl-C or `kill -- -PGID` reaches
 * this process directly and again through scripts/start.mjs, which forwards it. The stop is
 * bounded instead: past `closeGraceMs` plus a margin, the relay exits with 1.
 */
import { type Config, configFromEnv } from './config.ts';
import { startServer, type RunningServer } from './server.ts';

/** How long a stop may take beyond the closing handshakes' own limit before the relay gives up. */
const STOP_MARGIN_MS = 3_000;

function fail(message: string, exitCode: number): never {
  process.stderr.write(`${message}\n`);
  process.exit(exitCode);
}

let config: Config;
try {
  config = configFromEnv(process.env);
} catch (error) {
  fail(`Duet could not start: ${error instanceof Error ? error.message : String(error)}`, 1);
}

let stopRequested: NodeJS.Signals | undefined;
let server: RunningServer | undefined;

function requestStop(signal: NodeJS.Signals): void {
  if (stopRequested) return; // the same stop, delivered twice: once is enough
  stopRequested = signal;
  const limitMs = config.closeGraceMs + STOP_MARGIN_MS;
  setTimeout(() => fail(`Duet did not close within ${limitMs} ms: exiting now`, 1), limitMs).unref();
  // Asked to stop while still starting: the stop runs once the start is done.
  if (server) stop(server, signal);
}

function stop(running: RunningServer, signal: NodeJS.Signals): void {
  running.logger.info({ event: 'shutdown', signal }, 'closing connections');
  running.close().then(
    () => process.exit(0),
    (error: unknown) => fail(`Duet could not close cleanly: ${String(error)}`, 1),
  );
}

for (const signal of ['SIGTERM', 'SIGINT'] as const) process.on(signal, () => requestStop(signal));

try {
  server = await startServer(config);
} catch (error) {
  fail(`Duet could not start: ${error instanceof Error ? error.message : String(error)}`, 1);
}
server.logger.info(
  { event: 'listening', url: server.url, pid: process.pid },
  `Duet listening on ${server.url}`,
);
if (server.seedGateway) {
  const { host, port, link } = server.seedGateway;
  // The room's link is for the operator's eyes, on the console: the JSON logs never hold a room code.
  server.logger.info({ event: 'seed-gateway', host, port }, 'seed gateway listening');
  process.stderr.write(
    `Seed gateway on ${host}:${port} for the original Python clients (des, the original's salt).\n` +
      `Browsers join the same room with: ${link}\n`,
  );
}
if (stopRequested) stop(server, stopRequested);
