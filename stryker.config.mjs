// @ts-check
import { fileURLToPath } from 'node:url';

/**
 * Mutation testing of the security core (`npm run mutation`; docs/testing.md). Stryker changes
 * one thing at a time in the files under `mutate` and runs packages/core's unit tests against
 * each change: a change no test notices ("survived") is a gap in the tests.
 *
 * @type {import('@stryker-mutator/api/core').PartialStrykerOptions}
 */
const config = {
  testRunner: 'vitest',
  // The core's own unit tests, and nothing else: a mutant must be caught where it lives. (Not
  // `testFiles`: with it, Stryker 10 activates static mutants too late and reports them survived.)
  vitest: { configFile: 'packages/core/vitest.config.ts' },
  // conversation.ts is left out: it is the wiring file that every wave reworks, tested through
  // real sockets and browsers (server/, e2e/) that this run does not start, and its ~450
  // mutants would make every incremental run in CI as slow as a full one (docs/testing.md).
  mutate: [
    'packages/core/src/crypto/**/*.ts',
    'packages/core/src/session/**/*.ts',
    '!packages/core/src/session/conversation.ts',
  ],
  coverageAnalysis: 'perTest',
  plugins: [
    '@stryker-mutator/vitest-runner',
    fileURLToPath(new URL('./scripts/stryker-ignore-messages.mjs', import.meta.url)),
  ],
  ignorers: ['DuetErrorMessages'],
  // The colours of the report. The break (85 %, on every file and on their total) is applied by
  // scripts/mutation.mjs after the run, which also lists the files not held to it yet.
  thresholds: { high: 90, low: 85, break: null },
  // Results are committed, so a run only tests mutants in code or tests that changed since.
  incremental: true,
  incrementalFile: 'reports/stryker-incremental.json',
  reporters: ['clear-text', 'progress', 'html', 'json'],
  htmlReporter: { fileName: 'reports/mutation/mutation.html' },
  jsonReporter: { fileName: 'reports/mutation/mutation.json' },
  clearTextReporter: { allowColor: false, logTests: false, reportScoreTable: true },
  // The sandbox needs only the core and the root config: leave the app, relay and docs out.
  ignorePatterns: ['web', 'server', 'e2e', 'bench', 'docs', 'scripts', 'reports', '.ci'],
  tsconfigFile: 'packages/core/tsconfig.json',
  tempDirName: '.stryker-tmp',
  timeoutMS: 10_000,
};

export default config;
