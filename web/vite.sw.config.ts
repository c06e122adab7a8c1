/**
 * Builds the service worker (web/sw/sw.ts) into web/dist/sw.js: one self-contained classic script with a
 * fixed name (a worker's URL is its identity; a hashed name would register a new worker every build). Runs
 * after the pages' build, which empties web/dist.
 */
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const root = fileURLToPath(new URL('.', import.meta.url));

export default defineConfig({
  root,
  publicDir: false,
  build: {
    outDir: 'dist',
    emptyOutDir: false,
    target: 'es2022',
    copyPublicDir: false,
    lib: { entry: `${root}sw/sw.ts`, name: 'naboomServiceWorker', formats: ['iife'], fileName: () => 'sw.js' },
    reportCompressedSize: false,
  },
});
