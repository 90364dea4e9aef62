/** `npm start` runs this: settings from the environment, then serve until SIGTERM or SIGINT. */
import { configFromEnv } from './config.ts';
import { startServer } from './server.ts';

const config = (() => {
  try {
    return configFromEnv(process.env);
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n`);
    process.exit(2);
  }
})();

const server = await startServer(config);
process.stdout.write(`Duet listening on ${server.url}\n`);

let stopping = false;
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    process.stdout.write(`${signal}: closing connections\n`);
    void server.close().then(() => process.exit(0));
  });
}
