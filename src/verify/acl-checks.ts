/**
 * The ACL part of `naboom verify`: (a) every role authenticates and PINGs, (b) every role can do its job,
 * (c) every forbidden operation is refused with NOPERM, (d) `default` has a password and no user is nopass,
 * (e) the live ACL equals the desired rules, (f) ACL LOG holds no denial of Naboom's own connections (and
 * reports denials of anyone else as warnings).
 *
 * Commands that would do damage if the ACL wrongly allowed them (FLUSHALL, SHUTDOWN, ACL SETUSER, …) are
 * checked with `ACL DRYRUN` as the master role and never executed; harmless ones are executed as the role.
 */
import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { RedisClient } from '../redis/connections.js';
import type { Config } from '../config/load.js';
import { isNaboomError } from '../errors/catalogue.js';
import { diffAll, type LiveUser } from '../redis/acl/diff.js';
import { fetchLiveUsers } from '../redis/acl/provision.js';
import { desiredRules } from '../redis/acl/rules.js';
import { aclPatterns, layoutOf, type KeyLayout, type NamespaceOwner } from '../redis/keys.js';
import { roleSelectors, roleSpec, type ClientRole } from '../redis/roles.js';
import { describeGroup, groupAclLog, parseAclLog, type AclLogEntry, type AclLogGroup } from './acl-log.js';
import type { CheckResult } from './types.js';

/** Re-exported for callers that read ACL LOG alongside these checks. */
export { parseAclLog, VERIFY_CLIENT_MARK, type AclLogEntry } from './acl-log.js';


type Exec = (client: RedisClient, args: readonly (string | number)[]) => Promise<unknown>;
const exec: Exec = (client, args) => client.call(String(args[0]), ...args.slice(1).map(String));

const OWNERS: readonly NamespaceOwner[] = ['app', 'websocket', 'realtime'];

/** A key inside `pattern` (which ends with `*`) that no real data uses. */
export const probeKey = (pattern: string, nonce: string): string => pattern.replace(/\*$/, `verify-probe:${nonce}`);

interface Outcome {
  ok: boolean;
  detail: string;
}

async function expectOk(client: RedisClient, args: readonly (string | number)[]): Promise<Outcome> {
  try {
    const r = await exec(client, args);
    return { ok: true, detail: `${String(args[0])} → ${summarise(r)}` };
  } catch (err) {
    return { ok: false, detail: `${args.slice(0, 2).join(' ')} → ${(err as Error).message}` };
  }
}

async function expectNoPerm(client: RedisClient, args: readonly (string | number)[]): Promise<Outcome> {
  const what = args.slice(0, 2).join(' ');
  try {
    await exec(client, args);
    return { ok: false, detail: `${what} was ALLOWED` };
  } catch (err) {
    const msg = (err as Error).message;
    return /^NOPERM/.test(msg) ? { ok: true, detail: `${what} → NOPERM` } : { ok: false, detail: `${what} → ${msg} (expected NOPERM)` };
  }
}

async function expectDryRunDenied(admin: Redis, username: string, args: readonly (string | number)[]): Promise<Outcome> {
  const what = args.slice(0, 2).join(' ');
  const reply = String(await admin.call('ACL', 'DRYRUN', username, ...args.map(String)));
  return reply === 'OK' ? { ok: false, detail: `${what} would be ALLOWED (ACL DRYRUN)` } : { ok: true, detail: `${what} → denied (ACL DRYRUN)` };
}

async function expectDryRunAllowed(admin: Redis, username: string, args: readonly (string | number)[]): Promise<Outcome> {
  const what = args.slice(0, 2).join(' ');
  const reply = String(await admin.call('ACL', 'DRYRUN', username, ...args.map(String)));
  return reply === 'OK' ? { ok: true, detail: `${what} → allowed (ACL DRYRUN)` } : { ok: false, detail: `${what} → ${reply}` };
}

function summarise(r: unknown): string {
  if (r === null) return 'nil';
  if (typeof r === 'string') {
    const flat = r.replace(/\s+/g, ' ').trim();
    return flat.length > 24 ? `${flat.slice(0, 24)}…` : flat;
  }
  if (typeof r === 'number') return String(r);
  if (Array.isArray(r)) return `[${r.length} items]`;
  return 'ok';
}

/** Commands no application role may run: executed live when harmless, otherwise by ACL DRYRUN. */
const FORBIDDEN: readonly { args: (string | number)[]; live: boolean }[] = [
  { args: ['FLUSHALL'], live: false },
  { args: ['FLUSHDB'], live: false },
  { args: ['CONFIG', 'GET', 'maxmemory'], live: true },
  { args: ['CONFIG', 'SET', 'maxmemory', '0'], live: false },
  { args: ['ACL', 'LIST'], live: true },
  { args: ['ACL', 'SETUSER', 'naboom-verify-nobody'], live: false },
  { args: ['KEYS', 'naboom-verify-none*'], live: true },
  { args: ['SCAN', '0', 'COUNT', '1'], live: true },
  { args: ['SHUTDOWN', 'NOSAVE'], live: false },
  { args: ['MONITOR'], live: false },
  { args: ['DEBUG', 'SLEEP', '0'], live: false },
  { args: ['MODULE', 'LOAD', '/nonexistent.so'], live: false },
  { args: ['SWAPDB', '0', '1'], live: false },
  { args: ['REPLICAOF', 'NO', 'ONE'], live: false },
];

const MONITORING_WRITES: readonly (string | number)[][] = [
  ['SET', 'naboom:cache:verify-probe', 'x'],
  ['DEL', 'naboom:cache:verify-probe'],
  ['XADD', 'panic:verify-probe', '*', 'a', 'b'],
  ['HSET', 'naboom:auth:verify-probe', 'a', 'b'],
  ['LPUSH', 'naboom:channels:verify-probe', 'x'],
  ['ZADD', 'naboom:channels:verify-probe', '1', 'x'],
  ['EXPIRE', 'naboom:cache:verify-probe', '1'],
  ['PUBLISH', 'emergency:broadcast', 'x'],
  ['EVAL', 'return 1', '0'],
  ['FLUSHALL'],
];

export interface AclCheckContext {
  readonly config: Config;
  /** Connected as the master role. */
  readonly admin: Redis;
  /** One connection (or Cluster client) per client role, named with VERIFY_CLIENT_MARK. */
  readonly clients: ReadonlyMap<ClientRole, RedisClient>;
  /** Why a role's connection could not be established (WRONGPASS, ECONNREFUSED, …). */
  readonly connectErrors?: ReadonlyMap<ClientRole, Error>;
  readonly node?: string;
  /** `--strict`: denials from clients outside Naboom fail instead of warning. */
  readonly strict?: boolean;
  /** ACL LOG as read before the probes ran, and the client-name suffix of this run's connections. */
  readonly logBefore?: readonly AclLogEntry[];
  readonly runMark?: string;
}

/** What the sections of one run share: the context, the probe nonce and where results go. */
interface Run {
  readonly ctx: AclCheckContext;
  readonly layout: KeyLayout;
  readonly nonce: string;
  readonly user: (role: ClientRole) => string;
  readonly push: (r: Omit<CheckResult, 'node'>) => void;
}

/** Runs sections (a)–(f) and returns one result per cell. */
export async function aclChecks(ctx: AclCheckContext): Promise<CheckResult[]> {
  const out: CheckResult[] = [];
  const node = ctx.node;
  const run: Run = {
    ctx,
    layout: layoutOf(ctx.config),
    nonce: randomBytes(6).toString('hex'),
    user: (role) => ctx.config.credentials[role].username,
    push: (r) => {
      out.push(node ? { ...r, node } : r);
    },
  };
  const alive = await authenticate(run);
  await doTheJob(run, alive);
  await refuseTheForbidden(run, alive);
  const liveUsers = await fetchLiveUsers(ctx.admin);
  checkPasswords(run, liveUsers);
  checkDrift(run, liveUsers);
  await checkAclLog(run);
  return out;
}

/** (a) Every role authenticates and PINGs; returns the roles that did (the next sections probe only those). */
async function authenticate({ ctx, layout, user, push }: Run): Promise<Set<ClientRole>> {
  const alive = new Set<ClientRole>();
  for (const [role, client] of ctx.clients) {
    const connectError = ctx.connectErrors?.get(role);
    const o: Outcome = connectError ? { ok: false, detail: `connect → ${isNaboomError(connectError) ? `${connectError.code}: ` : ''}${connectError.message}` } : await expectOk(client, ['PING']);
    const db = roleSpec(role).db;
    push({
      section: 'auth',
      role,
      name: `${user(role)} authenticates and PINGs${db !== undefined && layout !== 'cluster' ? ` on db ${db}` : ''}`,
      status: o.ok ? 'pass' : 'fail',
      detail: o.detail,
      hint: o.ok ? undefined : isNaboomError(connectError) ? connectError.hint : `Check ${roleSpec(role).passwordEnv} and run \`naboom acl diff\`.`,
    });
    if (o.ok) alive.add(role);
  }
  return alive;
}

/** (b) Each role does its job in its own namespaces; monitoring reads its statistics. */
async function doTheJob({ ctx, layout, nonce, user, push }: Run, alive: ReadonlySet<ClientRole>): Promise<void> {
  for (const owner of OWNERS) {
    const client = ctx.clients.get(owner);
    if (!client || !alive.has(owner)) continue;
    const p = aclPatterns(layout, owner);
    for (const pattern of p.keys) {
      const key = probeKey(pattern, nonce);
      const steps: (string | number)[][] = [['SET', key, 'ok', 'EX', 30], ['GET', key], ['DEL', key]];
      let o: Outcome = { ok: true, detail: '' };
      for (const s of steps) {
        o = await expectOk(client, s);
        if (!o.ok) break;
      }
      push({
        section: 'job',
        role: owner,
        name: `write/read/delete in ~${pattern}`,
        status: o.ok ? 'pass' : 'fail',
        detail: o.ok ? 'SET, GET, DEL ok' : o.detail,
        hint: o.ok ? undefined : 'The role is missing a grant it needs: run `naboom acl apply`.',
      });
    }
    for (const pattern of p.channels) {
      const o = await expectOk(client, ['PUBLISH', probeKey(pattern, nonce), 'verify']);
      push({
        section: 'job',
        role: owner,
        name: `publish on &${pattern}`,
        status: o.ok ? 'pass' : 'fail',
        detail: o.detail,
        hint: o.ok ? undefined : 'Run `naboom acl apply`.',
      });
    }
    if (owner === 'realtime') {
      const stream = probeKey(p.keys[0] ?? 'panic:*', nonce);
      const o1 = await expectOk(client, ['XADD', stream, 'MAXLEN', '~', 10, '*', 'verify', '1']);
      const o2 = o1.ok ? await expectOk(client, ['XRANGE', stream, '-', '+', 'COUNT', 1]) : o1;
      await exec(client, ['DEL', stream]).catch(() => undefined);
      push({ section: 'job', role: owner, name: 'append to and read an alert stream', status: o2.ok ? 'pass' : 'fail', detail: o2.ok ? 'XADD, XRANGE ok' : o2.detail });
    }
    // Selectors (the realtime role's presence grant): asked with ACL DRYRUN, so verify writes no fake position.
    for (const sel of roleSelectors(owner, layout)) {
      for (const pattern of sel.keys) {
        const key = probeKey(pattern, nonce);
        const o = await expectDryRunAllowed(ctx.admin, user(owner), ['GEOADD', key, 18.42, -33.92, 'verify']);
        const o2 = o.ok ? await expectDryRunAllowed(ctx.admin, user(owner), ['GEOSEARCH', key, 'FROMLONLAT', 18.42, -33.92, 'BYRADIUS', 1, 'km']) : o;
        push({ section: 'job', role: owner, name: `GEO commands in ~${pattern} (selector)`, status: o2.ok ? 'pass' : 'fail', detail: o2.detail, hint: o2.ok ? undefined : 'Run `naboom acl apply`.' });
      }
    }
    const info = await expectOk(client, ['INFO', 'server']);
    push({ section: 'job', role: owner, name: 'INFO (client ready check)', status: info.ok ? 'pass' : 'fail', detail: info.detail });
  }
  const mon = ctx.clients.get('monitoring');
  if (mon && alive.has('monitoring')) {
    for (const args of [['INFO'], ['DBSIZE'], ['SLOWLOG', 'LEN']] as const) {
      const o = await expectOk(mon, args);
      push({ section: 'job', role: 'monitoring', name: `reads ${args.join(' ')}`, status: o.ok ? 'pass' : 'fail', detail: o.detail });
    }
  }
}

/** (c) The negative matrix: forbidden commands, other roles' namespaces, and any write by monitoring are refused. */
async function refuseTheForbidden({ ctx, layout, nonce, user, push }: Run, alive: ReadonlySet<ClientRole>): Promise<void> {
  for (const owner of OWNERS) {
    const client = ctx.clients.get(owner);
    if (!client || !alive.has(owner)) continue;
    for (const f of FORBIDDEN) {
      const o = f.live ? await expectNoPerm(client, f.args) : await expectDryRunDenied(ctx.admin, user(owner), f.args);
      push({
        section: 'deny',
        role: owner,
        name: `refuses ${f.args.slice(0, f.args[0] === 'CONFIG' || f.args[0] === 'ACL' || f.args[0] === 'MODULE' ? 2 : 1).join(' ')}`,
        status: o.ok ? 'pass' : 'fail',
        detail: o.detail,
        hint: o.ok ? undefined : 'An application role holds a dangerous grant: run `naboom acl apply` and check who changed the ACL.',
      });
    }
    for (const other of OWNERS) {
      if (other === owner) continue;
      const own = new Set(aclPatterns(layout, owner).keys);
      for (const pattern of aclPatterns(layout, other).keys) {
        if (own.has(pattern)) continue;
        const key = probeKey(pattern, nonce);
        const read = await expectNoPerm(client, ['GET', key]);
        const write = await expectDryRunDenied(ctx.admin, user(owner), ['SET', key, 'x']);
        const ok = read.ok && write.ok;
        push({
          section: 'deny',
          role: owner,
          name: `cannot touch ${other}'s ~${pattern}`,
          status: ok ? 'pass' : 'fail',
          detail: ok ? 'GET → NOPERM, SET → denied' : [read, write].filter((x) => !x.ok).map((x) => x.detail).join('; '),
          hint: ok ? undefined : 'Key patterns overlap between roles: run `naboom acl apply`.',
        });
      }
    }
  }
  // Selectors: no other role reaches their keys; their owner's GEO grant stops at them, and its root commands
  // do not reach them.
  for (const owner of OWNERS) {
    if (!ctx.clients.get(owner) || !alive.has(owner)) continue;
    for (const sel of roleSelectors(owner, layout)) {
      for (const pattern of sel.keys) {
        const key = probeKey(pattern, nonce);
        for (const other of OWNERS) {
          if (other === owner || !ctx.clients.get(other) || !alive.has(other)) continue;
          // DRYRUN both ways: a live refusal here would be one ACL LOG does not expect from verify.
          const read = await expectDryRunDenied(ctx.admin, user(other), ['GEOPOS', key, 'verify']);
          const write = await expectDryRunDenied(ctx.admin, user(other), ['GEOADD', key, 18.42, -33.92, 'verify']);
          const ok = read.ok && write.ok;
          push({ section: 'deny', role: other, name: `cannot touch ${owner}'s ~${pattern} (selector)`, status: ok ? 'pass' : 'fail', detail: ok ? 'GEOPOS, GEOADD → denied (ACL DRYRUN)' : [read, write].filter((x) => !x.ok).map((x) => x.detail).join('; '), hint: ok ? undefined : 'Run `naboom acl apply`.' });
        }
        const outside = await expectDryRunDenied(ctx.admin, user(owner), ['GEOADD', probeKey(aclPatterns(layout, owner).keys[0] ?? 'x:*', nonce), 18.42, -33.92, 'verify']);
        push({ section: 'deny', role: owner, name: `GEOADD only inside ~${pattern}`, status: outside.ok ? 'pass' : 'fail', detail: outside.detail, hint: outside.ok ? undefined : 'Run `naboom acl apply`.' });
        const root = await expectDryRunDenied(ctx.admin, user(owner), ['SET', key, 'x']);
        push({ section: 'deny', role: owner, name: `root commands do not reach ~${pattern}`, status: root.ok ? 'pass' : 'fail', detail: root.detail, hint: root.ok ? undefined : 'Run `naboom acl apply`.' });
      }
    }
  }
  const mon = ctx.clients.get('monitoring');
  if (mon && alive.has('monitoring')) {
    const live = await expectNoPerm(mon, ['SET', probeKey('naboom:cache:*', nonce), 'x']);
    push({ section: 'deny', role: 'monitoring', name: 'refuses SET (live)', status: live.ok ? 'pass' : 'fail', detail: live.detail });
    for (const args of MONITORING_WRITES) {
      const o = await expectDryRunDenied(ctx.admin, user('monitoring'), args);
      push({
        section: 'deny',
        role: 'monitoring',
        name: `refuses ${String(args[0])}`,
        status: o.ok ? 'pass' : 'fail',
        detail: o.detail,
        hint: o.ok ? undefined : 'The monitoring role must never write: run `naboom acl apply`.',
      });
    }
    const cfg = await expectNoPerm(mon, ['CONFIG', 'GET', 'masterauth']);
    push({ section: 'deny', role: 'monitoring', name: 'refuses CONFIG GET (it would reveal masterauth)', status: cfg.ok ? 'pass' : 'fail', detail: cfg.detail });
  }
}

/** (d) `default` exists and no user is nopass or enabled without a password. */
function checkPasswords({ push }: Run, liveUsers: ReadonlyMap<string, LiveUser>): void {
  for (const [name, u] of liveUsers) {
    const nopass = u.flags.includes('nopass');
    const enabledWithout = u.flags.includes('on') && u.passwordHashes.length === 0;
    const bad = nopass || enabledWithout;
    push({
      section: 'passwords',
      name: `${name} requires a password`,
      status: bad ? 'fail' : 'pass',
      detail: nopass ? 'user is nopass' : enabledWithout ? 'user is on with no password' : `${u.passwordHashes.length} password hash(es)`,
      hint: bad ? 'Run `naboom acl apply`; never leave a user nopass.' : undefined,
    });
  }
  if (!liveUsers.has('default')) {
    push({ section: 'passwords', name: 'default user exists with a password', status: 'warn', detail: 'no default user' });
  }
}

/** (e) The live ACL equals the desired rules, user by user. */
function checkDrift({ ctx, push }: Run, liveUsers: ReadonlyMap<string, LiveUser>): void {
  const drift = diffAll(desiredRules(ctx.config), liveUsers);
  for (const d of drift) {
    push({
      section: 'drift',
      name: `${d.username} matches the desired rules`,
      status: d.problems.length === 0 ? 'pass' : 'fail',
      detail: d.problems.length === 0 ? 'in sync' : d.problems.join('; '),
      hint: d.problems.length === 0 ? undefined : 'Run `naboom acl diff` to see the drift and `naboom acl apply` to fix it.',
    });
  }
}

/**
 * (f) ACL LOG: Naboom's own denials fail, anyone else's warn. Read before the probes too: Redis merges a
 * probe's refusal into an earlier identical one and keeps only the latest client, which would hide it.
 */
async function checkAclLog({ ctx, push }: Run): Promise<void> {
  const after = parseAclLog(await ctx.admin.call('ACL', 'LOG', '512'));
  const mine = ctx.runMark;
  const entries = ctx.logBefore && mine ? [...ctx.logBefore, ...after.filter((e) => e.clientName?.endsWith(mine))] : after;
  for (const c of aclLogChecks(groupAclLog(entries), { strict: ctx.strict ?? false })) push(c);
}

/** At most this many foreign groups get a check of their own; the rest are summed up in one. */
const MAX_FOREIGN_CHECKS = 10;

export interface AclLogCheckOptions {
  /** `--strict`: denials from outside Naboom fail verify instead of warning. */
  readonly strict?: boolean;
  readonly node?: string;
  readonly section?: string;
  /** Name of the check for Naboom's own denials (kept stable for the JSON output). */
  readonly name?: string;
  /** Report foreign denials (off for a node whose log is already reported in another section). */
  readonly foreign?: boolean;
}

const FOREIGN_HINT =
  'Not a deployment failure: a client outside Naboom used this user. If it was not you, find the host, rotate the password (`naboom acl rotate ROLE --all-nodes`); `naboom acl log --reset` clears the log. `naboom verify --strict` fails on these.';

/** verify's checks for one node's ACL LOG: FAIL for Naboom's own denials, WARN (FAIL with `strict`) for anyone else's. */
export function aclLogChecks(groups: readonly AclLogGroup[], o: AclLogCheckOptions = {}): CheckResult[] {
  const base = { section: o.section ?? 'acl-log', ...(o.node ? { node: o.node } : {}) };
  const own = groups.filter((g) => g.class === 'grant-missing');
  const probes = groups.filter((g) => g.class === 'verify-probe').reduce((n, g) => n + g.count, 0);
  const out: CheckResult[] = [
    {
      ...base,
      name: o.name ?? 'no denials caused by normal operation',
      status: own.length === 0 ? 'pass' : 'fail',
      detail:
        own.length === 0
          ? `none (${probes} expected refusal${probes === 1 ? '' : 's'} of verify's own negative checks)`
          : own.slice(0, 5).map(describeGroup).join('; ') + (own.length > 5 ? `; and ${own.length - 5} more` : ''),
      hint:
        own.length === 0
          ? undefined
          : 'A Naboom process was refused: grant the command in src/redis/roles.ts if it is legitimate, then `naboom acl apply --all-nodes`; `naboom acl log` lists every entry and `naboom acl log --reset` clears them.',
      aclLog: own,
    },
  ];
  if (o.foreign === false) return out;
  const foreign = groups.filter((g) => g.class === 'foreign');
  const status = o.strict ? 'fail' : 'warn';
  for (const g of foreign.slice(0, MAX_FOREIGN_CHECKS)) {
    out.push({ ...base, name: 'denial from outside Naboom', status, detail: describeGroup(g), hint: FOREIGN_HINT, aclLog: [g] });
  }
  const rest = foreign.slice(MAX_FOREIGN_CHECKS);
  if (rest.length > 0) {
    const n = rest.reduce((s, g) => s + g.count, 0);
    out.push({ ...base, name: 'denial from outside Naboom', status, detail: `${rest.length} more groups (${n} denials): see \`naboom acl log\``, hint: FOREIGN_HINT, aclLog: rest });
  }
  return out;
}
