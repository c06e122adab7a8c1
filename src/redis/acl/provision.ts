/**
 * Talks to a live server as the master role: reads the ACL users, applies the desired rules with
 * `ACL SETUSER` (never `ACL LOAD`: on Redis 7.0 it disconnects every non-default client) and persists them
 * with `ACL SAVE` when the server runs with an aclfile.
 */
import type { Redis } from 'ioredis';
import { NaboomError } from '../../errors/catalogue.js';
import { diffAll, effectiveCommands, parseGetUser, referencedCategories, type LiveUser, type UserDrift } from './diff.js';
import { ruleTokens, type UserRules } from './rules.js';

/** Every ACL user on the server, parsed, with command categories expanded by the server's own ACL CAT. */
export async function fetchLiveUsers(admin: Redis): Promise<Map<string, LiveUser>> {
  const names = (await admin.call('ACL', 'USERS')) as string[];
  const replies = await Promise.all(names.map((n) => admin.call('ACL', 'GETUSER', n)));
  const parsed = names.map((n, i) => parseGetUser(n, replies[i]));
  const cats = [...new Set(parsed.flatMap((u) => [u.commandTokens, ...u.selectors.map((s) => s.commandTokens)].flatMap(referencedCategories)))];
  const members = await Promise.all(cats.map(async (c) => ((await admin.call('ACL', 'CAT', c)) as string[]).map((m) => m.toLowerCase())));
  const categories = new Map(cats.map((c, i) => [c, members[i] ?? []]));
  const out = new Map<string, LiveUser>();
  for (const u of parsed) {
    const selectors = u.selectors.map((s) => ({ ...s, effectiveCommands: effectiveCommands(s.commandTokens, categories) }));
    out.set(u.username, { ...u, selectors, effectiveCommands: effectiveCommands(u.commandTokens, categories) });
  }
  return out;
}

/** Path of the server's aclfile, or `undefined` when users live in redis.conf / memory only. */
export async function aclFilePath(admin: Redis): Promise<string | undefined> {
  const reply = (await admin.call('CONFIG', 'GET', 'aclfile')) as string[];
  const v = reply[1];
  return v ? v : undefined;
}

export interface ApplyResult {
  readonly changed: string[];
  readonly removed: string[];
  readonly unchanged: string[];
  readonly saved: boolean;
}

/** Brings the server's users in line with `rules`. Idempotent: users already in sync are not touched. */
export async function applyRules(admin: Redis, rules: readonly UserRules[], opts: { prune?: boolean } = {}): Promise<ApplyResult> {
  const live = await fetchLiveUsers(admin);
  const drift = diffAll(rules, live);
  const changed: string[] = [];
  const removed: string[] = [];
  const unchanged: string[] = [];
  // The admin's own user goes last so a failure part-way never locks provisioning out.
  const ordered = [...rules].sort((a, b) => Number(a.role === 'master') - Number(b.role === 'master'));
  for (const r of ordered) {
    const d = drift.find((x) => x.username === r.username);
    if (!d || d.problems.length === 0) {
      unchanged.push(r.username);
      continue;
    }
    try {
      await admin.call('ACL', 'SETUSER', r.username, ...ruleTokens(r));
    } catch (cause) {
      throw new NaboomError('NABOOM_ACL_APPLY_FAILED', `ACL SETUSER ${r.username} failed: ${(cause as Error).message}`, { cause });
    }
    changed.push(r.username);
  }
  if (opts.prune) {
    const wanted = new Set(rules.map((r) => r.username));
    for (const name of live.keys()) {
      if (!wanted.has(name) && name !== 'default') {
        await admin.call('ACL', 'DELUSER', name);
        removed.push(name);
      }
    }
  }
  let saved = false;
  if ((changed.length > 0 || removed.length > 0) && (await aclFilePath(admin))) {
    await admin.call('ACL', 'SAVE');
    saved = true;
  }
  return { changed, removed, unchanged, saved };
}

/** Drift between the server and `rules` (empty problem lists = in sync). */
export async function diffServer(admin: Redis, rules: readonly UserRules[]): Promise<UserDrift[]> {
  return diffAll(rules, await fetchLiveUsers(admin));
}

/** Runs `ACL SETUSER <user> <tokens…>` then `ACL SAVE` when an aclfile is in use. */
export async function setUser(admin: Redis, username: string, tokens: readonly string[]): Promise<void> {
  await admin.call('ACL', 'SETUSER', username, ...tokens);
  if (await aclFilePath(admin)) await admin.call('ACL', 'SAVE');
}
