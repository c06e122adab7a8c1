/**
 * Builds the operator dashboard into web/dist (served at `/` by `naboom serve`). Everything is bundled:
 * the page loads nothing from another origin, so it works without internet and under `default-src 'self'`.
 */
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const root = fileURLToPath(new URL('.', import.meta.url));
// `npx vite --config web/vite.config.ts` serves the page with hot reload against a running `naboom serve`.
const api = 'http://127.0.0.1:8000';

export default defineConfig({
  root,
  base: '/',
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    // No inline data: URIs and no injected inline script: the CSP allows only files from the server.
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    reportCompressedSize: true,
    // Two pages share one bundle graph: the dashboard (`/`) and the resident's panic page (`/panic`).
    // The service worker is built on its own (vite.sw.config.ts): it must be one classic script at /sw.js.
    rollupOptions: {
      input: { main: `${root}index.html`, panic: `${root}panic.html` },
    },
  },
  server: {
    proxy: {
      '/api': api,
      '/health': api,
      '/ws': { target: api, ws: true },
    },
  },
});
