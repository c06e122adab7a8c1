/**
 * Compares the live ACL users of a server with the desired rules. Pure: the Redis calls live in
 * `provision.ts`; this file only parses `ACL GETUSER` replies and computes differences.
 */
import { replyFields } from '../reply.js';
import type { SelectorRules, UserRules } from './rules.js';

export interface LiveUser {
  readonly username: string;
  readonly flags: readonly string[];
  readonly passwordHashes: readonly string[];
  /** Command rule tokens as Redis describes them, e.g. `-@all`, `+@hash`, `-hsetnx`, `+client|setname`. */
  readonly commandTokens: readonly string[];
  /**
   * The effective grants with categories expanded (Redis compacts `+hget +hset …` into `+@hash -hsetnx …`),
   * or `undefined` when the categories were not expanded.
   */
  readonly effectiveCommands?: ReadonlySet<string>;
  readonly keys: readonly string[];
  readonly readKeys: readonly string[];
  readonly writeKeys: readonly string[];
  readonly channels: readonly string[];
  readonly selectors: readonly LiveSelector[];
}

/** One selector of a live user, as `ACL GETUSER` describes it. */
export interface LiveSelector {
  readonly commandTokens: readonly string[];
  /** Read-write key patterns (`~k`, `%RW~k`); read-only and write-only ones apart. */
  readonly keys: readonly string[];
  readonly readKeys: readonly string[];
  readonly writeKeys: readonly string[];
  readonly channels: readonly string[];
  /** Commands with categories expanded (`fetchLiveUsers`), or `undefined` when not expanded. */
  readonly effectiveCommands?: ReadonlySet<string>;
}

export interface UserDrift {
  readonly username: string;
  /** Human-readable differences, one per line; empty when in sync. */
  readonly problems: readonly string[];
}

const asStrings = (v: unknown): string[] => (Array.isArray(v) ? v.map(String) : typeof v === 'string' && v ? v.split(' ') : []);

function parseKeys(keyTokens: readonly string[]): { keys: string[]; readKeys: string[]; writeKeys: string[] } {
  const keys: string[] = [];
  const readKeys: string[] = [];
  const writeKeys: string[] = [];
  for (const t of keyTokens) {
    if (t.startsWith('%RW~')) keys.push(t.slice(4));
    else if (t.startsWith('%R~')) readKeys.push(t.slice(3));
    else if (t.startsWith('%W~')) writeKeys.push(t.slice(3));
    else if (t.startsWith('~')) keys.push(t.slice(1));
    else if (t === 'allkeys') keys.push('*');
  }
  return { keys, readKeys, writeKeys };
}

const parseChannels = (v: unknown): string[] =>
  asStrings(v)
    .map((c) => (c === 'allchannels' ? '*' : c.startsWith('&') ? c.slice(1) : c))
    .filter(Boolean);

/** One entry of GETUSER's `selectors` (a flat array or a map, like the user itself). */
function parseSelector(reply: unknown): LiveSelector {
  const fields = replyFields(reply);
  return {
    commandTokens: asStrings(fields.get('commands')).map((t) => t.toLowerCase()),
    ...parseKeys(asStrings(fields.get('keys'))),
    channels: parseChannels(fields.get('channels')),
  };
}

/** Parses an `ACL GETUSER` reply (flat array or map) into a LiveUser. */
export function parseGetUser(username: string, reply: unknown): LiveUser {
  const fields = replyFields(reply);
  const selectors = fields.get('selectors');
  return {
    username,
    flags: asStrings(fields.get('flags')),
    passwordHashes: asStrings(fields.get('passwords')),
    commandTokens: asStrings(fields.get('commands')).map((t) => t.toLowerCase()),
    ...parseKeys(asStrings(fields.get('keys'))),
    channels: parseChannels(fields.get('channels')),
    selectors: Array.isArray(selectors) ? selectors.map(parseSelector) : [],
  };
}

/** Categories referenced by command tokens (`+@hash` → `hash`), except `all`. */
export function referencedCategories(tokens: readonly string[]): string[] {
  return [...new Set(tokens.filter((t) => /^[+-]@/.test(t)).map((t) => t.slice(2)).filter((c) => c !== 'all'))];
}

/**
 * Applies command tokens in order to compute the granted command set. `+@all` yields the marker `@all`.
 * `categories` maps a category to its commands (from `ACL CAT <category>`).
 */
export function effectiveCommands(tokens: readonly string[], categories: ReadonlyMap<string, readonly string[]>): Set<string> {
  const granted = new Set<string>();
  for (const t of tokens) {
    const sign = t[0];
    const name = t.slice(1);
    if (sign !== '+' && sign !== '-') continue;
    if (name === '@all') {
      granted.clear();
      if (sign === '+') granted.add('@all');
      continue;
    }
    const members = name.startsWith('@') ? (categories.get(name.slice(1)) ?? [`${name}?`]) : [name];
    for (const m of members) {
      if (sign === '+') granted.add(m);
      else {
        granted.delete(m);
        // `-client` also revokes `client|setname`.
        for (const g of [...granted]) if (g.startsWith(`${m}|`)) granted.delete(g);
      }
    }
  }
  return granted;
}

function setDiff(label: string, want: readonly string[], have: readonly string[], fmt: (s: string) => string): string[] {
  const w = new Set(want);
  const h = new Set(have);
  const out: string[] = [];
  const missing = [...w].filter((x) => !h.has(x)).map(fmt);
  const extra = [...h].filter((x) => !w.has(x)).map(fmt);
  if (missing.length) out.push(`missing ${label}: ${missing.join(' ')}`);
  if (extra.length) out.push(`extra ${label}: ${extra.join(' ')}`);
  return out;
}

/** Normalised command grant tokens for the desired rules: `+@all`, or `-@all` followed by `+cmd`. */
export function desiredCommandTokens(u: UserRules): string[] {
  return u.commands.includes('@all') ? ['+@all'] : ['-@all', ...u.commands.map((c) => `+${c}`)];
}

/** Differences between one desired user and what the server has (`undefined` = the user does not exist). */
export function diffUser(want: UserRules, live: LiveUser | undefined): UserDrift {
  if (!live) return { username: want.username, problems: ['user does not exist'] };
  const problems: string[] = [];
  const on = live.flags.includes('on');
  if (want.enabled !== on) problems.push(`user is ${on ? 'on' : 'off'}, want ${want.enabled ? 'on' : 'off'}`);
  if (live.flags.includes('nopass')) problems.push('user is nopass (accepts any password)');
  const wantHashes = new Set(want.passwordHashes);
  const liveHashes = new Set(live.passwordHashes);
  if (![...wantHashes].every((h) => liveHashes.has(h))) problems.push('password does not match the configured one');
  const extraPasswords = [...liveHashes].filter((h) => !wantHashes.has(h)).length;
  if (extraPasswords > 0) problems.push(`${extraPasswords} extra password(s) accepted (rotation grace period, or a stale password)`);
  problems.push(...setDiff('key patterns', want.keys, live.keys, (k) => `~${k}`));
  problems.push(...setDiff('read-only key patterns', want.readKeys, live.readKeys, (k) => `%R~${k}`));
  problems.push(...setDiff('write-only key patterns', [], live.writeKeys, (k) => `%W~${k}`));
  problems.push(...setDiff('channels', want.channels, live.channels, (c) => `&${c}`));
  if (live.effectiveCommands && !want.commands.includes('@all')) {
    const have = [...live.effectiveCommands];
    problems.push(...setDiff('commands', want.commands, have, (c) => `+${c}`));
  } else {
    problems.push(...setDiff('commands', desiredCommandTokens(want), live.commandTokens, (c) => c));
  }
  problems.push(...selectorDrift(want.selectors, live.selectors));
  return { username: want.username, problems };
}

/** A selector in one comparable line: sorted keys, then sorted commands (`~a ~b +x +y`). */
const selectorKey = (keys: readonly string[], commands: Iterable<string>): string =>
  [...[...keys].sort().map((k) => `~${k}`), ...[...commands].sort().map((c) => `+${c}`)].join(' ');

/**
 * Selectors compared as a set (Redis keeps them in the order given, which is ours): every wanted one present
 * with exactly its keys and commands, none other; a live selector with read-only, write-only or channel
 * patterns never matches ours.
 */
export function selectorDrift(want: readonly SelectorRules[], live: readonly LiveSelector[]): string[] {
  const wanted = new Set(want.map((w) => selectorKey(w.keys, w.commands)));
  const have = new Set(
    live.map((l) => {
      const commands = l.effectiveCommands ?? new Set(l.commandTokens.filter((t) => t !== '-@all').map((t) => (t.startsWith('+') ? t.slice(1) : t)));
      const odd = [...l.readKeys.map((k) => `%R~${k}`), ...l.writeKeys.map((k) => `%W~${k}`), ...l.channels.map((c) => `&${c}`)];
      return [selectorKey(l.keys, commands), ...odd].join(' ');
    }),
  );
  const out: string[] = [];
  const missing = [...wanted].filter((w) => !have.has(w));
  const extra = [...have].filter((h) => !wanted.has(h));
  if (missing.length) out.push(`missing selector(s): ${missing.map((m) => `(${m})`).join(' ')}`);
  if (extra.length) out.push(`extra selector(s): ${extra.map((m) => `(${m})`).join(' ')}`);
  return out;
}

/** Drift for every desired user, plus users the server has that nobody asked for. */
export function diffAll(wanted: readonly UserRules[], live: ReadonlyMap<string, LiveUser>): UserDrift[] {
  const out = wanted.map((w) => diffUser(w, live.get(w.username)));
  const known = new Set(wanted.map((w) => w.username));
  for (const name of live.keys()) {
    if (!known.has(name)) out.push({ username: name, problems: ['unexpected user (not in the desired rules)'] });
  }
  return out;
}
