import { svelte } from '@sveltejs/vite-plugin-svelte';
import { defineConfig } from 'vite';

export default defineConfig({
  plugins: [svelte()],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    // Keep the CSP strict: no inline script for the module-preload polyfill.
    modulePreload: { polyfill: false },
  },
  server: {
    // `npm run dev -w web` next to a relay on :8080.
    proxy: { '/ws': { target: 'ws://127.0.0.1:8080', ws: true } },
  },
});
