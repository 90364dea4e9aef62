import { defineConfig } from 'vitest/config';

// Unit and integration tests: packages, the relay, and the app's wrappers of browser APIs (against
// fakes). The browser suite has its own config
// (e2e/vitest.config.ts) because it needs a built app and runs one file at a time.
export default defineConfig({
  test: {
    include: [
      'packages/*/test/**/*.test.ts',
      'server/test/**/*.test.ts',
      'web/test/**/*.test.ts',
      'bench/test/**/*.test.ts',
    ],
    environment: 'node',
    testTimeout: 20_000,
    pool: 'forks',
    // Vitest's default leaves a core free; most of these files wait on sockets and timers, and
    // two at once take half the time on this 2-core machine (CI included).
    maxWorkers: 2,
  },
});
