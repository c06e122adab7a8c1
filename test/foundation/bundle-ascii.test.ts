/**
 * The bundle that `bin/naboom.js` runs is ASCII only (scripts/bundle.mjs, scripts/ascii-only.mjs): V8 keeps
 * every loaded chunk's source on the heap at two bytes per character as soon as one character is beyond
 * Latin-1, which cost every serve process 2.6 MiB. `npm test` builds first, so dist/bundle/ is the real one.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const BUNDLE = join(ROOT, 'dist', 'bundle');
const NON_ASCII = /[\u0080-\uffff]/;

function asciiOnly(dir: string): { status: number | null; stdout: string; stderr: string } {
  const script = `import { asciiOnly } from './scripts/ascii-only.mjs'; console.log(asciiOnly(process.argv[1]));`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script, dir], { cwd: ROOT, encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

const dirs: string[] = [];
const scratch = (files: Record<string, string>): string => {
  const dir = mkdtempSync(join(tmpdir(), 'naboom-ascii-'));
  dirs.push(dir);
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
};
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('the bundle is ASCII only', () => {
  it('every chunk of dist/bundle/', () => {
    const chunks = readdirSync(BUNDLE).filter((n) => n.endsWith('.js'));
    expect(chunks.length).toBeGreaterThan(10);
    const offending = chunks.filter((n) => NON_ASCII.test(readFileSync(join(BUNDLE, n), 'utf8')));
    expect(offending).toEqual([]);
  });

  it('a legal comment on its own line is escaped; other chunks are left as they are', () => {
    const dir = scratch({ 'a.js': 'const a = 1;\n/*! polyfill. MIT License. Jimmy Wärting — 2024 */\nexport { a };\n', 'b.js': 'export const b = "\\u2014";\n' });
    const r = asciiOnly(dir);
    expect(r.status).toBe(0);
    expect(r.stdout.trim()).toBe('1');
    expect(readFileSync(join(dir, 'a.js'), 'utf8')).toBe('const a = 1;\n/*! polyfill. MIT License. Jimmy W\\u00e4rting \\u2014 2024 */\nexport { a };\n');
    expect(readFileSync(join(dir, 'b.js'), 'utf8')).toBe('export const b = "\\u2014";\n');
  });

  it.each([
    ['a string', 'export const dash = "—";\n'],
    ['code after a comment', '/*! x */ const s = "é";\n'],
    ['a comment with code after it', '/*! é */ f();\n'],
  ])('fails the build on a non-ASCII character in %s, naming the chunk and line', (_what, text) => {
    const dir = scratch({ 'chunk.js': `// first\n${text}` });
    const r = asciiOnly(dir);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain('chunk.js:2: a non-ASCII character outside a comment');
    expect(readFileSync(join(dir, 'chunk.js'), 'utf8')).toBe(`// first\n${text}`);
  });
});
