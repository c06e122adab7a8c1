// Builds what `bin/naboom.js` runs: the compiled CLI (dist/) and its dependencies bundled by rolldown into
// dist/bundle/, minified with function and class names kept (stack traces stay readable; a source map sits
// next to each chunk for `node --enable-source-maps`). Each command stays its own chunk, loaded when it runs.
//
// Why: an idle serve process keeps every loaded module's source text and compiled metadata on its V8 heap.
// Loaded from node_modules that is 200+ files — every locale zod ships, all of BullMQ, comments and all — and
// ≈ 8 MiB more resident memory than the same code bundled and minified (BENCHMARKS.md, "Idle footprint").
// Tests and benchmarks import dist/ itself; the processes they start (bin/naboom.js) run this bundle.
//
// The Lua scripts are read at run time from next to the module that declares them
// (new URL('./lua/x.lua', import.meta.url)); in the bundle that module is a chunk in dist/bundle/, so every
// script is copied into dist/bundle/lua/ (includes into lua/includes/). Two scripts with one name would be
// one file there: the build fails instead. dist/bundle/ sits as deep as dist/<folder>/, so other paths taken
// relative to a module (the dashboard's ../../web/dist) resolve as they do from dist/.
//
// The chunks are ASCII only (`charset: 'ascii'`: every non-ASCII character in a string, a regular expression
// or a name written as an escape). V8 keeps each loaded script's source text on the heap, one byte per
// character when every character is Latin-1 and two bytes otherwise: one "—" in a 1.2 MB chunk doubles it.
// That was 2.6 MiB of every serve process (BENCHMARKS.md, "Night of 2026-12-04"). What rolldown leaves are the
// legal comments it keeps on lines of their own; `asciiOnly` escapes those and fails the build on anything
// else, so no dependency can quietly bring the two-byte sources back.
import { rmSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'rolldown';
import { asciiOnly } from './ascii-only.mjs';
import { copyLuaFiles } from './lua-files.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dist = join(root, 'dist');
const out = join(dist, 'bundle');
const started = Date.now();

rmSync(out, { recursive: true, force: true });
const keepNames = { function: true, class: true };
await build({
  input: { main: join(dist, 'cli', 'main.js'), 'young-generation': join(dist, 'start', 'young-generation.js') },
  platform: 'node',
  // Node's own modules, and msgpackr's optional native addon (found by path at run time; msgpackr falls back
  // to JavaScript without it).
  external: [/^node:/, ...builtinModules.map((m) => new RegExp(`^${m}(/|$)`)), /^msgpackr-extract/],
  logLevel: 'warn',
  output: {
    dir: out,
    format: 'esm',
    entryFileNames: '[name].js',
    chunkFileNames: '[name]-[hash].js',
    sourcemap: true,
    charset: 'ascii',
    // Legal comments stay (licence notices) and are made ASCII below.
    minify: { compress: { keepNames }, mangle: { keepNames } },
  },
});

const escaped = asciiOnly(out);

// Includes go into lua/includes/, every other script into lua/.
const copied = copyLuaFiles(join(root, 'src'), (file) => join(out, 'lua', dirname(file).endsWith(join('lua', 'includes')) ? 'includes' : '', basename(file)), root);
process.stderr.write(`bundle: dist/bundle/ (${copied} Lua scripts; legal comments made ASCII in ${escaped} chunks) in ${Date.now() - started} ms\n`);
