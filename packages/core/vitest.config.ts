import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

// The core's unit tests alone, for mutation testing (stryker.config.mjs): a mutant must be caught
// where it lives. `npm test` runs them through the root config with everything else.
export default defineConfig({
  root: fileURLToPath(new URL('../..', import.meta.url)),
  test: {
    include: ['packages/core/test/**/*.test.ts'],
    environment: 'node',
    testTimeout: 20_000,
    pool: 'forks',
  },
});
