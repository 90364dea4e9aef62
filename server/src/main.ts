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
