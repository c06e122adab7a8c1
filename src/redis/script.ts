/**
 * The one Lua script runner. Every script is a file `<folder>/lua/<name>-<NKEYS>.lua` (BullMQ's layout):
 * NKEYS is the fixed number of KEYS, or `N` when it varies per call (a batch, or an optional trailing key).
 * The file opens with a `--[[ ]]` header naming every KEYS and ARGV entry in order and the reply
 * (`script-header.ts` reads it back in tests), then binds each fixed entry to a named local.
 *
 * Shared Lua lives in `lua/includes/<name>.lua` and is pulled in by a `--- @include "<name>"` line when the
 * file is loaded, so it is written once and every script that needs it still runs as one self-contained
 * source (one SHA).
 *
 * Callers pass keys and arguments by name; the declaration next to the file is the one place that orders
 * them. Runs with EVALSHA, falling back to EVAL once when the server does not know the script yet (after a
 * restart or failover). No SCRIPT LOAD: roles need only `eval` and `evalsha`.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { RedisClient } from './connections.js';

export type ScriptArg = string | number | Buffer;

/**
 * Names as declared: `name`, `name?` (may be left out; nothing after it in the same group may be given
 * without it), `name[]` (an ARGV list, written as its length followed by its items).
 */
type BareName<N extends string> = N extends `${infer B}?` ? B : N extends `${infer B}[]` ? B : N;
type RequiredNames<Names extends readonly string[], V> = {
  readonly [N in Names[number] as N extends `${string}?` ? never : BareName<N>]: N extends `${string}[]` ? readonly V[] : V;
};
type OptionalNames<Names extends readonly string[], V> = {
  readonly [N in Names[number] as N extends `${string}?` ? BareName<N> : never]?: V | undefined;
};
/** An object with one property per declared name. */
export type Named<Names extends readonly string[], V> = RequiredNames<Names, V> & OptionalNames<Names, V>;

/** Which KEYS and ARGV a script takes: fixed ones first, then, for batches, the same group once per item. */
export interface ScriptShape {
  readonly keys: readonly string[];
  readonly args: readonly string[];
  readonly each?: { readonly keys: readonly string[]; readonly args: readonly string[] };
}

type EachOf<S extends ScriptShape> = S['each'] extends { readonly keys: infer K extends readonly string[]; readonly args: infer A extends readonly string[] }
  ? { readonly items: readonly { readonly keys: Named<K, string>; readonly args: Named<A, ScriptArg> }[] }
  : unknown;

/** One call of a script: keys and arguments by name (and per item, for batches). */
export type ScriptCall<S extends ScriptShape> = { readonly keys: Named<S['keys'], string>; readonly args: Named<S['args'], ScriptArg> } & EachOf<S>;

const INCLUDE = /^--- @include "([a-z0-9-]+)"[ \t]*$/gm;

/** The file's text with every `--- @include` line replaced by `<luaDir>/includes/<name>.lua` (each one once). */
function resolveIncludes(path: string, luaDir: string, seen = new Set<string>()): string {
  return readFileSync(path, 'utf8').replace(INCLUDE, (_line, name: string) => {
    const included = join(luaDir, 'includes', `${name}.lua`);
    if (seen.has(included)) return '';
    seen.add(included);
    return resolveIncludes(included, luaDir, seen);
  });
}

/** Appends the values of `names` from `from`, in declaration order. */
function push(out: ScriptArg[], names: readonly string[], from: Readonly<Record<string, unknown>>): void {
  for (const declared of names) {
    if (declared.endsWith('?')) {
      const value = from[declared.slice(0, -1)] as ScriptArg | undefined;
      if (value !== undefined) out.push(value);
    } else if (declared.endsWith('[]')) {
      const list = from[declared.slice(0, -2)] as readonly ScriptArg[];
      out.push(list.length);
      for (const v of list) out.push(v);
    } else {
      out.push(from[declared] as ScriptArg);
    }
  }
}

export class LuaScript<S extends ScriptShape = ScriptShape> {
  /** The script's name: its file name without the key count (`alert-ingest`). */
  readonly name: string;
  /** The source as sent to Redis, includes resolved. */
  readonly source: string;
  readonly sha: string;

  /** Reads `file` (next to the declaring module: `new URL('./lua/x-1.lua', import.meta.url)`) once. */
  constructor(
    readonly file: URL,
    readonly shape: S,
  ) {
    const path = fileURLToPath(file);
    this.name = basename(path).replace(/-(\d+|N)\.lua$/, '');
    this.source = resolveIncludes(path, dirname(path));
    this.sha = createHash('sha1').update(this.source).digest('hex');
  }

  /** KEYS and ARGV in the order the declaration gives. */
  order(call: ScriptCall<S>): { keys: string[]; args: ScriptArg[] } {
    const keys: ScriptArg[] = [];
    const args: ScriptArg[] = [];
    push(keys, this.shape.keys, call.keys);
    push(args, this.shape.args, call.args);
    const each = this.shape.each;
    if (each) {
      for (const item of (call as unknown as { items: readonly { keys: Record<string, unknown>; args: Record<string, unknown> }[] }).items) {
        push(keys, each.keys, item.keys);
        push(args, each.args, item.args);
      }
    }
    return { keys: keys as string[], args };
  }

  /** Not `async`: this sits on every channel send, and each extra promise frame shows up in the profile. */
  run(client: RedisClient, call: ScriptCall<S>): Promise<unknown> {
    const { keys, args } = this.order(call);
    return client.evalsha(this.sha, keys.length, ...keys, ...args).catch((err: unknown) => {
      if (!(err instanceof Error) || !err.message.startsWith('NOSCRIPT')) throw err;
      return client.eval(this.source, keys.length, ...keys, ...args);
    });
  }
}

/** Declares a script from its file; `shape` is the one list of its KEYS and ARGV names. */
export function defineScript<const S extends ScriptShape>(file: URL, shape: S): LuaScript<S> {
  return new LuaScript(file, shape);
}
