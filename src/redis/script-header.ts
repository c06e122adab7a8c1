/**
 * Reads a Lua file's header back and compares it with the script's declaration, so the comment a reader
 * trusts, the locals the script binds and the order the runner sends can never drift apart. Used by the
 * unit tests of every folder that owns scripts.
 *
 * Header lines: `KEYS[1] feed  what it is` for fixed entries (numbered from 1, in order), `ARGV[+] doc  …`
 * for the entries repeated per batch item, and a line starting with `Returns`.
 */
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { LuaScript } from './script.js';

export interface ScriptHeader {
  readonly keys: string[];
  readonly args: string[];
  readonly eachKeys: string[];
  readonly eachArgs: string[];
  readonly returns: boolean;
}

const ENTRY = /^\s*(KEYS|ARGV)\[(\d+|\+)\]\s+(\S+)/gm;

/** The header's entries, or a message saying why there is no readable header. */
export function parseScriptHeader(text: string): { header: ScriptHeader; body: string } | string {
  const m = /^--\[\[\n([\s\S]*?)\n\]\]\n/.exec(text);
  if (!m?.[1]) return 'the file does not start with a --[[ … ]] header';
  const block = m[1];
  const header: ScriptHeader = { keys: [], args: [], eachKeys: [], eachArgs: [], returns: /^\s*Returns\b/m.test(block) };
  for (const [, kind, index, name] of block.matchAll(ENTRY)) {
    const fixed = kind === 'KEYS' ? header.keys : header.args;
    const each = kind === 'KEYS' ? header.eachKeys : header.eachArgs;
    if (index === '+') {
      each.push(name as string);
      continue;
    }
    if (each.length > 0) return `${kind}[${index}] comes after the per-item ${kind}`;
    if (Number(index) !== fixed.length + 1) return `${kind}[${index}] is out of order`;
    fixed.push(name as string);
  }
  return { header, body: text.slice(m[0].length) };
}

const bare = (name: string): string => name.replace(/(\?|\[\])$/, '');
const escape = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Every way the script's file disagrees with its declaration; empty when they agree. */
export function headerProblems(script: LuaScript): string[] {
  const path = fileURLToPath(script.file);
  const parsed = parseScriptHeader(readFileSync(path, 'utf8'));
  if (typeof parsed === 'string') return [parsed];
  const { header, body } = parsed;
  const shape = script.shape;
  const problems: string[] = [];
  const same = (what: string, inFile: readonly string[], declared: readonly string[]): void => {
    if (inFile.join(' ') !== declared.join(' ')) problems.push(`${what}: header [${inFile.join(', ')}], declaration [${declared.join(', ')}]`);
  };
  same('KEYS', header.keys, shape.keys);
  same('ARGV', header.args, shape.args);
  same('per-item KEYS', header.eachKeys, shape.each?.keys ?? []);
  same('per-item ARGV', header.eachArgs, shape.each?.args ?? []);
  if (!header.returns) problems.push('the header does not describe the reply (a line starting with "Returns")');

  const varies = (shape.each?.keys.length ?? 0) > 0 || shape.keys.some((k) => k.endsWith('?'));
  const suffix = varies ? 'N' : String(shape.keys.length);
  if (!basename(path).endsWith(`-${suffix}.lua`)) problems.push(`the file name should end in -${suffix}.lua`);

  // Each fixed entry is read once, into a local of its own name; nothing else indexes KEYS or ARGV by number.
  const fixed = [...shape.keys.map((n, i) => ['KEYS', n, i + 1] as const), ...shape.args.map((n, i) => ['ARGV', n, i + 1] as const)];
  for (const [kind, name, i] of fixed) {
    const binding = new RegExp(`^local ${escape(bare(name))} = (tonumber\\()?${kind}\\[${i}\\]\\)?$`, 'm');
    if (!binding.test(body)) problems.push(`missing \`local ${bare(name)} = ${kind}[${i}]\``);
  }
  const indexed = body.match(/\b(KEYS|ARGV)\[\d+\]/g) ?? [];
  if (indexed.length !== fixed.length) problems.push(`KEYS/ARGV are indexed by number ${indexed.length} times; expected once per fixed entry (${fixed.length})`);
  return problems;
}
