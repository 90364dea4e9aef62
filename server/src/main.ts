/** `npm start` runs this: settings from the environment, then serve until SIGTERM or SIGINT. */
import { configFromEnv } from './config.ts';
import { startServer, type RunningServer } from './server.ts';

function fail(message: string, exitCode: number): never {
  process.stderr.write(`${message}\n`);
  process.exit(exitCode);
}

let server: RunningServer;
try {
  server = await startServer(configFromEnv(process.env));
} catch (error) {
  fail(`Duet could not start: ${error instanceof Error ? error.message : String(error)}`, 1);
}
server.logger.info({ event: 'listening', url: server.url }, `Duet listening on ${server.url}`);
if (server.seedGateway) {
  const { host, port, link } = server.seedGateway;
  // The room's link is for the operator's eyes, on the console: the JSON logs never hold a room code.
  server.logger.info({ event: 'seed-gateway', host, port }, 'seed gateway listening');
  process.stderr.write(
    `Seed gateway on ${host}:${port} for the original Python clients (des, the original's salt).\n` +
      `Browsers join the same room with: ${link}\n`,
  );
}

let stopping = false;
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.on(signal, () => {
    if (stopping) fail(`${signal} again: exiting now`, 1);
    stopping = true;
    server.logger.info({ event: 'shutdown', signal }, 'closing connections');
    server.close().then(
      () => process.exit(0),
      (error: unknown) => fail(`Duet could not close cleanly: ${String(error)}`, 1),
    );
  });
}
