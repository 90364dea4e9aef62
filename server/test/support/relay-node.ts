/**
 * One relay node in its own process, for the crash test: settings from the environment (as
 * main.ts), the URL printed as one JSON line on stdout. The test kills it with SIGKILL.
 */
import { configFromEnv } from '../../src/config.ts';
import { startServer } from '../../src/server.ts';

const server = await startServer({
  ...configFromEnv(process.env),
  staticDir: '/nonexistent',
  logLevel: 'warn',
});
process.stdout.write(`${JSON.stringify({ url: server.url })}\n`);
