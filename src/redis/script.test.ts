import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { defineScript, type ScriptShape } from './script.js';
import { headerProblems } from './script-header.js';

const dir = mkdtempSync(join(tmpdir(), 'naboom-lua-'));
mkdirSync(join(dir, 'includes'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const GOOD = `--[[
  Moves a thing.

  KEYS[1] from    where it is
  KEYS[2] to      where it goes
  ARGV[1] id      the thing
  ARGV[2] ttl     ms

  Returns 1.
]]
--- @include "helper"

local from = KEYS[1]
local to = KEYS[2]
local id = ARGV[1]
local ttl = tonumber(ARGV[2])
return helper(from, to, id, ttl)
`;

function script(name: string, text: string, shape: ScriptShape = { keys: ['from', 'to'], args: ['id', 'ttl'] }) {
  writeFileSync(join(dir, name), text);
  return defineScript(pathToFileURL(join(dir, name)), shape);
}

writeFileSync(join(dir, 'includes', 'helper.lua'), '--- @include "inner"\nlocal function helper() return 1 end\n');
writeFileSync(join(dir, 'includes', 'inner.lua'), 'local function inner() return 0 end\n');

describe('LuaScript', () => {
  it('names the script by its file without the key count, and resolves includes (nested, once each)', () => {
    const s = script('move-2.lua', `${GOOD}--- @include "inner"\n`);
    expect(s.name).toBe('move');
    expect(s.source).toContain('local function helper()');
    expect(s.source.match(/local function inner\(\)/g)).toHaveLength(1);
    expect(s.source).not.toContain('@include');
    expect(s.sha).toMatch(/^[0-9a-f]{40}$/);
  });

  it('orders named keys and args as declared, lists as their length then items', () => {
    writeFileSync(join(dir, 'batch-N.lua'), GOOD);
    const s = defineScript(pathToFileURL(join(dir, 'batch-N.lua')), { keys: ['a'], args: ['x', 'opt?'], each: { keys: ['k'], args: ['v', 'list[]'] } });
    const items = [
      { keys: { k: 'k1' }, args: { v: 1, list: ['p', 'q'] } },
      { keys: { k: 'k2' }, args: { v: 2, list: [] } },
    ];
    expect(s.order({ keys: { a: 'A' }, args: { x: 'X' }, items })).toEqual({ keys: ['A', 'k1', 'k2'], args: ['X', 1, 2, 'p', 'q', 2, 0] });
    expect(s.order({ keys: { a: 'A' }, args: { x: 'X', opt: 'O' }, items: [] })).toEqual({ keys: ['A'], args: ['X', 'O'] });
  });
});

describe('headerProblems', () => {
  it('accepts a header, bindings and file name that agree with the declaration', () => {
    expect(headerProblems(script('move-2.lua', GOOD))).toEqual([]);
  });

  it('reports a declaration whose order differs from the header', () => {
    const s = script('move-2.lua', GOOD, { keys: ['to', 'from'], args: ['id', 'ttl'] });
    expect(headerProblems(s)).toContain('KEYS: header [from, to], declaration [to, from]');
  });

  it('reports a file name whose key count is wrong', () => {
    expect(headerProblems(script('move-3.lua', GOOD))).toEqual(['the file name should end in -2.lua']);
  });

  it('reports ARGV read by position instead of through its named local', () => {
    const problems = headerProblems(script('move-2.lua', `${GOOD}redis.call('SET', ARGV[1], 1)\n`));
    expect(problems).toEqual(['KEYS/ARGV are indexed by number 5 times; expected once per fixed entry (4)']);
    expect(headerProblems(script('move-2.lua', GOOD.replace('local ttl = tonumber(ARGV[2])', 'local tl = ARGV[2]')))).toContain('missing `local ttl = ARGV[2]`');
  });

  it('reports a header without the reply, out of order or missing', () => {
    expect(headerProblems(script('move-2.lua', GOOD.replace('  Returns 1.\n', '')))).toEqual(['the header does not describe the reply (a line starting with "Returns")']);
    expect(headerProblems(script('move-2.lua', GOOD.replace('ARGV[2] ttl', 'ARGV[3] ttl')))).toEqual(['ARGV[3] is out of order']);
    expect(headerProblems(script('move-2.lua', GOOD.replace(/^--\[\[[\s\S]*?\]\]\n/, '')))).toEqual(['the file does not start with a --[[ … ]] header']);
  });

  it('wants -N when the number of keys varies', () => {
    const shape = { keys: ['from', 'to?'], args: ['id', 'ttl'] };
    expect(headerProblems(script('move-2.lua', GOOD.replace('KEYS[2] to ', 'KEYS[2] to?'), shape))).toEqual(['the file name should end in -N.lua']);
    expect(headerProblems(script('move-N.lua', GOOD.replace('KEYS[2] to ', 'KEYS[2] to?'), shape))).toEqual([]);
  });
});
