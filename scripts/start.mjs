// `npm start`: build the web app if it is missing or older than its sources, then run the relay.
//
// Exit status (what a supervisor restarting on failure needs to see):
// - the relay's own exit code when it exits (0 after a graceful stop);
// - 0 when the relay ends because of a SIGINT or SIGTERM this script forwarded to it;
// - 128 + the signal's number when the relay dies by a signal nobody asked for (SIGKILL, an
//   OOM kill: 137).
// A stop is forwarded once: a signal to the whole process group reaches the relay directly as
// well, and it handles a repeated stop once (server/src/main.ts). package.json runs this script
// with `exec`, so that no shell sits between npm and this process to die of the signal first.
//
// `npm start -- --no-build` skips the build check (for tests, and hosts that build elsewhere).
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { constants } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const builtIndex = join(root, 'web/dist/index.html');
const sources = ['web/src', 'web/index.html', 'web/vite.config.ts', 'packages/core/src'].map((p) =>
  join(root, p),
);

function newestMtime(path) {
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  let newest = stat.mtimeMs;
  for (const entry of readdirSync(path)) newest = Math.max(newest, newestMtime(join(path, entry)));
  return newest;
}

/** The child now running (the build, then the relay), and the stop forwarded to it, if any. */
let child;
let requested;
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    if (requested) return;
    requested = signal;
    if (child) child.kill(signal);
    else process.exit(0);
  });
}

/** Runs a child to its end; resolves with the exit status this script should report for it. */
function run(command, args) {
  child = spawn(command, args, { cwd: root, stdio: 'inherit' });
  return new Promise((resolve) => {
    child.on('error', (error) => {
      console.error(`could not run ${command}: ${error.message}`);
      resolve(1);
    });
    child.on('exit', (code, signal) => {
      child = undefined;
      if (code !== null) resolve(code);
      else if (signal === requested) resolve(0);
      else resolve(128 + (constants.signals[signal] ?? 0));
    });
  });
}

const skipBuild = process.argv.includes('--no-build');
const stale =
  !skipBuild &&
  (!existsSync(builtIndex) || Math.max(...sources.map(newestMtime)) > statSync(builtIndex).mtimeMs);
if (stale) {
  console.log('Building the web app…');
  const status = await run('npm', ['run', 'build', '-w', 'web']);
  if (status !== 0 || requested) process.exit(status);
}

process.exit(await run(process.execPath, ['--import', 'tsx', join(root, 'server/src/main.ts')]));
