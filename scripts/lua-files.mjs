// The Lua scripts under src/ copied to where the built code reads them (scripts/copy-lua.mjs: beside each
// compiled module in dist/; scripts/bundle.mjs: into dist/bundle/lua/).
import { copyFileSync, mkdirSync, readdirSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';

/**
 * Copies every `.lua` file under `src` to `destinationOf(file)`; fails when there is none, or when two files
 * would land on one destination (one would silently replace the other). Returns how many were copied.
 */
export function copyLuaFiles(src, destinationOf, root = dirname(src)) {
  const sources = new Map();
  for (const entry of readdirSync(src, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile() || !entry.name.endsWith('.lua')) continue;
    const from = join(entry.parentPath, entry.name);
    const to = destinationOf(from);
    const seen = sources.get(to);
    if (seen) throw new Error(`two Lua scripts would both be ${relative(root, to)}: ${relative(root, seen)} and ${relative(root, from)} (rename one)`);
    sources.set(to, from);
    mkdirSync(dirname(to), { recursive: true });
    copyFileSync(from, to);
  }
  if (sources.size === 0) throw new Error(`no .lua files found under ${src}`);
  return sources.size;
}
