/**
 * ACL LOG, read and classified by who caused each denial. Naboom names every connection it opens
 * (`CLIENT SETNAME naboom:<role>:<pid>…`, see src/redis/connections.ts) and BullMQ names the copies it makes of
 * our queue clients after the queue (`<queue prefix>:<base64 queue name>:w:<host>:<pid>`), so an entry is one of:
 *
 * - `grant-missing`: one of Naboom's own connections was refused — the ACL lacks a grant the code needs;
 * - `verify-probe`: one of verify's deliberate negative checks (`naboom:<role>:verify-<pid>`) got the refusal
 *   it expects;
 * - `foreign`: any other client (redis-cli, another application, an attacker with a leaked password) — a
 *   security signal, not a deployment failure.
 *
 * Redis merges repeated denials (same user, reason, context and object within 60 s) into one entry whose
 * client-info is the latest client's, so entries are grouped again here by client host as well.
 */
import { createKeySpace } from '../redis/keys.js';
import { fieldText, replyFields } from '../redis/reply.js';
import { CLIENT_ROLES, type ClientRole } from '../redis/roles.js';

export const VERIFY_CLIENT_MARK = ':verify-';

export interface AclLogEntry {
  readonly count: number;
  readonly reason: string;
  readonly context: string;
  readonly object: string;
  readonly username: string;
  readonly clientInfo: string;
  readonly clientName: string | undefined;
  /** Seconds since the entry was last updated (`age-seconds`). */
  readonly ageSeconds: number;
}

/** Parses `ACL LOG` (flat arrays in RESP2 style, maps in RESP3). */
export function parseAclLog(reply: unknown): AclLogEntry[] {
  if (!Array.isArray(reply)) return [];
  return reply.map((entry: unknown) => {
    const f = replyFields(entry);
    const str = (k: string): string => fieldText(f, k);
    const clientInfo = str('client-info');
    const name = clientField(clientInfo, 'name');
    const age = Number(str('age-seconds'));
    return {
      count: Number(str('count') || 1),
      reason: str('reason'),
      context: str('context'),
      object: str('object'),
      username: str('username'),
      clientInfo,
      clientName: name ? name : undefined,
      ageSeconds: Number.isFinite(age) ? age : 0,
    };
  });
}

function clientField(clientInfo: string, field: string): string | undefined {
  return new RegExp(`(?:^| )${field}=(\\S*)`).exec(clientInfo)?.[1];
}

export type AclLogClass = 'grant-missing' | 'verify-probe' | 'foreign';

/** Entries that share a cause, user, refused command/key and client host. */
export interface AclLogGroup {
  readonly class: AclLogClass;
  readonly username: string;
  /** The Naboom role named by the connection (not for `foreign`). */
  readonly role?: ClientRole;
  /** The latest client name seen (`naboom:app:123`), when the client set one. */
  readonly clientName?: string;
  /** `command`, `key`, `channel` or `auth`, as Redis reports it. */
  readonly reason: string;
  /** `toplevel`, `multi`, `lua` or `module`. */
  readonly context: string;
  /** What was refused, readable: `FLUSHALL`, `CONFIG GET`, `GET key panic:x`, `AUTH (wrong password)`. */
  readonly what: string;
  /** The client's host (IP address without the port), or `unknown`. */
  readonly address: string;
  /** Denials in total (Redis' own count, summed over merged entries). */
  readonly count: number;
  /** When the latest of them happened (ISO 8601), computed from `age-seconds`. */
  readonly lastSeen: string;
  readonly node?: string;
}

/**
 * The refusals verify's negative matrix provokes live (acl-checks.ts: FORBIDDEN with `live: true`, the
 * monitoring role's SET and CONFIG GET); any other refusal of a verify connection means a grant is missing.
 */
const PROBE_COMMANDS = new Set(['config|get', 'acl|list', 'keys', 'scan', 'set']);
/** verify's cross-namespace reads use keys made by `probeKey()`. */
const PROBE_KEY_MARK = 'verify-probe:';

const NAME = new RegExp(`^naboom:(${CLIENT_ROLES.join('|')}):`);

const escapeRegExp = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
/**
 * A connection BullMQ opened from one of our queue clients: `<prefix>:<base64 queue name>`, then `:w:<worker
 * name>` for a worker's blocking copy (see createBlockingConnection in bullmq). Only the app role runs the queue.
 */
const QUEUE_PREFIXES = [createKeySpace('standalone').queuePrefix, createKeySpace('cluster').queuePrefix];
const BULLMQ_NAME = new RegExp(`^(?:${QUEUE_PREFIXES.map(escapeRegExp).join('|')}):[A-Za-z0-9+/]+={0,2}(?::|$)`);
const QUEUE_ROLE: ClientRole = 'app';

/** Which Naboom role a client name belongs to, if it is one of Naboom's own connections. */
export function naboomRole(clientName: string | undefined): ClientRole | undefined {
  if (!clientName) return undefined;
  const m = NAME.exec(clientName);
  if (m) return m[1] as ClientRole;
  return BULLMQ_NAME.test(clientName) ? QUEUE_ROLE : undefined;
}

/** Who caused one entry. */
export function classifyEntry(e: AclLogEntry): { class: AclLogClass; role?: ClientRole } {
  const role = naboomRole(e.clientName);
  if (!role) return { class: 'foreign' };
  if (e.clientName?.includes(VERIFY_CLIENT_MARK)) {
    const expected = (e.reason === 'command' && PROBE_COMMANDS.has(e.object)) || (e.reason === 'key' && e.object.includes(PROBE_KEY_MARK));
    if (expected) return { class: 'verify-probe', role };
  }
  return { class: 'grant-missing', role };
}

function describe(e: AclLogEntry): string {
  if (e.reason === 'command') return e.object.replace('|', ' ').toUpperCase();
  if (e.reason === 'auth') return 'AUTH (wrong password or disabled user)';
  const cmd = clientField(e.clientInfo, 'cmd');
  const by = cmd && cmd !== 'NULL' ? `${cmd.replace('|', ' ').toUpperCase()} ` : '';
  return `${by}${e.reason} ${e.object}`;
}

function hostOf(clientInfo: string): string {
  const addr = clientField(clientInfo, 'addr');
  if (!addr) return 'unknown';
  return addr.replace(/:\d+$/, '') || 'unknown';
}

/** Classifies and groups entries; `now` is an input so the times are testable. Most denials first. */
export function groupAclLog(entries: readonly AclLogEntry[], now: number = Date.now(), node?: string): AclLogGroup[] {
  const groups = new Map<string, AclLogGroup & { lastMs: number }>();
  for (const e of entries) {
    const c = classifyEntry(e);
    const what = describe(e);
    const address = hostOf(e.clientInfo);
    const key = [c.class, c.role ?? '', e.username, e.reason, e.context, what, address].join('\u0000');
    const at = now - Math.round(e.ageSeconds * 1000);
    const prev = groups.get(key);
    const latest = !prev || at > prev.lastMs;
    const name = latest ? e.clientName : prev.clientName;
    const lastMs = latest ? at : prev.lastMs;
    groups.set(key, {
      class: c.class,
      username: e.username,
      ...(c.role ? { role: c.role } : {}),
      ...(name ? { clientName: name } : {}),
      reason: e.reason,
      context: e.context,
      what,
      address,
      count: (prev?.count ?? 0) + e.count,
      lastSeen: new Date(lastMs).toISOString(),
      lastMs,
      ...(node ? { node } : {}),
    });
  }
  return [...groups.values()].sort((a, b) => b.count - a.count || b.lastMs - a.lastMs).map(({ lastMs: _lastMs, ...g }) => g);
}

/** One readable sentence for a group, e.g. "someone tried FLUSHALL as app_user from 10.0.0.7 (3×)". */
export function describeGroup(g: AclLogGroup): string {
  const times = `(${g.count}×)`;
  const inside = g.context === 'toplevel' ? '' : ` inside ${g.context}`;
  if (g.class === 'foreign') {
    if (g.reason === 'auth') return `someone failed to log in as ${g.username} from ${g.address} ${times}`;
    return `someone tried ${g.what}${inside} as ${g.username} from ${g.address}${g.clientName ? ` (client name ${g.clientName})` : ''} ${times}`;
  }
  const who = `${g.clientName ?? `naboom:${g.role ?? '?'}`} (role ${g.role ?? '?'}, user ${g.username}) from ${g.address}`;
  if (g.class === 'verify-probe') return `verify's expected refusal: ${g.what} for ${who} ${times}`;
  return `${who} was refused ${g.what}${inside} ${times}: a grant is missing`;
}
