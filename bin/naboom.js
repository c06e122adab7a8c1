#!/usr/bin/env node
// Runs the bundled CLI (dist/bundle/, built by `npm run build`: scripts/bundle.mjs says why it is bundled).
import { holdYoungGeneration } from '../dist/bundle/young-generation.js';

// `naboom … | head` closes the pipe before the output is written: the reader's choice, not a crash.
process.stdout.on('error', (err) => {
  if (err.code !== 'EPIPE') throw err;
  process.exit(process.exitCode ?? 0);
});

// Before any command's modules load: keeps the start-up from growing the young generation (see the module).
holdYoungGeneration();
const { main } = await import('../dist/bundle/main.js');

const code = await main(process.argv);
process.exitCode = code;
// Every command has finished its work when main() resolves (long-running ones resolve after their graceful
// shutdown); a library timer left behind (e.g. an ioredis reconnect delay) must not hold the exit back.
setTimeout(() => process.exit(code), 100).unref();
