import { defineConfig } from 'vitest/config';

// Unit and integration tests: packages and the relay. The browser suite has its own config
// (e2e/vitest.config.ts) because it needs a built app and runs one file at a time.
export default defineConfig({
  test: {
    include: ['packages/*/test/**/*.test.ts', 'server/test/**/*.test.ts', 'web/test/**/*.test.ts'],
    environment: 'node',
    testTimeout: 20_000,
    pool: 'forks',
  },
});
