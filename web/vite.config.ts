import { constants } from 'node:zlib';
import { svelte } from '@sveltejs/vite-plugin-svelte';
import { defineConfig } from 'vite';
import { compression, defineAlgorithm } from 'vite-plugin-compression2';

export default defineConfig({
  plugins: [
    svelte(),
    // Brotli and gzip copies next to every text asset (a.js.br, a.js.gz), made once at build at
    // the highest levels, so that the relay serves them without compressing per request
    // (server/src/static-files.ts).
    compression({
      include: /\.(?:js|css|html|svg|json|txt)$/,
      algorithms: [
        defineAlgorithm('brotliCompress', { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }),
        defineAlgorithm('gzip', { level: 9 }),
      ],
      skipIfLargerOrEqual: true,
      logLevel: 'silent',
    }),
  ],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    // Keep the CSP strict: no inline script for the module-preload polyfill.
    modulePreload: { polyfill: false },
    // Which chunks the page loads before it runs (the entry and its static imports): the page
    // weight budget (e2e/page-weight.e2e.test.ts) reads it. Not served: express ignores dot folders.
    manifest: true,
  },
  server: {
    // `npm run dev -w web` next to a relay on :8080.
    proxy: { '/ws': { target: 'ws://127.0.0.1:8080', ws: true } },
  },
});
