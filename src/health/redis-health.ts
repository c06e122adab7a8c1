/**
 * `/health/redis` in the original's shape (docs/contract.md §5). Each role is probed only with what its ACL grants:
 * the app, websocket and realtime roles PING and write/read/delete one probe key in their own namespace;
 * the monitoring role PINGs and reads INFO and DBSIZE — it never writes. Server statistics (clients,
 * memory, keys per database) come from the monitoring role's INFO. No secret is ever in the body.
 */
import { randomBytes } from 'node:crypto';
import type { Config } from '../config/load.js';
import type { RedisClient, RoleClients } from '../redis/connections.js';
import { DATABASES } from '../redis/databases.js';
import { layoutOf, type KeySpace } from '../redis/keys.js';
import type { ClientRole } from '../redis/roles.js';
import { djangoProbe } from './django-probe.js';

export type HealthStatus = 'healthy' | 'unhealthy';

export interface RoleHealth {
  status: HealthStatus;
  connected_clients: number | null;
  used_memory_human: string | null;
  db_keys: number | null;
  operations: string[];
  response_time_ms: number;
  error?: string;
}

export interface RedisHealthReport {
  overall_status: 'healthy' | 'degraded' | 'unhealthy';
  redis_acl_health: Record<string, RoleHealth>;
  timestamp: string;
}

const PROBED: readonly { role: ClientRole; db: number }[] = [
  { role: 'app', db: DATABASES.cache },
  { role: 'websocket', db: DATABASES.channels },
  { role: 'realtime', db: DATABASES.realtime },
  { role: 'monitoring', db: DATABASES.monitoring },
];

/** Parses `INFO` text into a flat map. */
export function parseInfo(text: string): Map<string, string> {
  const m = new Map<string, string>();
  for (const line of text.split(/\r?\n/)) {
    const i = line.indexOf(':');
    if (i > 0 && !line.startsWith('#')) m.set(line.slice(0, i), line.slice(i + 1));
  }
  return m;
}

const keysInDb = (info: Map<string, string>, db: number): number => {
  const v = info.get(`db${db}`);
  const m = v ? /keys=(\d+)/.exec(v) : null;
  return m?.[1] ? Number(m[1]) : 0;
};

/** Redacts anything that could carry a credential from an error message. */
const safeError = (err: unknown): string => {
  const msg = err instanceof Error ? err.message : String(err);
  return msg.replace(/(AUTH|HELLO)\b.*$/i, '$1 [redacted]').slice(0, 200);
};

export interface RedisHealthOptions {
  /** How long a report is reused (HEALTH_CACHE_MS); 0 = only concurrent requests share one round. */
  readonly cacheMs?: number;
  /** Clock in ms (tests pass their own). */
  readonly now?: () => number;
}

export class RedisHealth {
  readonly #clients: RoleClients;
  readonly #config: Config;
  readonly #keys: KeySpace;
  readonly #cacheMs: number;
  readonly #now: () => number;
  #inFlight: Promise<RedisHealthReport> | undefined;
  #last: { report: RedisHealthReport; at: number } | undefined;
  #rounds = 0;

  constructor(clients: RoleClients, config: Config, keys: KeySpace, options: RedisHealthOptions = {}) {
    this.#clients = clients;
    this.#config = config;
    this.#keys = keys;
    this.#cacheMs = options.cacheMs ?? config.settings.HEALTH_CACHE_MS;
    this.#now = options.now ?? Date.now;
  }

  /** Probe rounds run so far (each is ~15 Redis commands, writes included). */
  get rounds(): number {
    return this.#rounds;
  }

  /**
   * The report for `/health/redis`. The endpoint is unauthenticated, so a flood must not turn into Redis
   * load: concurrent callers share one probe round, and a finished report is reused for `cacheMs`.
   */
  async report(): Promise<RedisHealthReport> {
    const last = this.#last;
    if (last && this.#now() - last.at < this.#cacheMs) return last.report;
    if (this.#inFlight) return this.#inFlight;
    const round = this.check().then((report) => {
      this.#last = { report, at: this.#now() };
      return report;
    });
    this.#inFlight = round;
    try {
      return await round;
    } finally {
      this.#inFlight = undefined;
    }
  }

  /** One probe round, uncached. */
  async check(): Promise<RedisHealthReport> {
    this.#rounds++;
    const db = (n: number): number => (layoutOf(this.#config) === 'cluster' ? 0 : n);
    const results = await Promise.all(PROBED.map(async (p) => [p, await this.#probe(p.role, this.#clients.get(p.role, 'command', db(p.db)))] as const));
    const monitoring = results.find(([p]) => p.role === 'monitoring')?.[1];
    const info = monitoring?.info;
    const body: Record<string, RoleHealth> = {};
    for (const [p, r] of results) {
      body[this.#config.credentials[p.role].username] = {
        status: r.ok ? 'healthy' : 'unhealthy',
        connected_clients: info ? Number(info.get('connected_clients') ?? NaN) : null,
        used_memory_human: info?.get('used_memory_human') ?? null,
        db_keys: info ? keysInDb(info, db(p.db)) : null,
        operations: r.operations,
        response_time_ms: r.ms,
        ...(r.error ? { error: r.error } : {}),
      };
    }
    const healthy = results.filter(([, r]) => r.ok).length;
    return {
      overall_status: healthy === results.length ? 'healthy' : healthy === 0 ? 'unhealthy' : 'degraded',
      redis_acl_health: body,
      timestamp: new Date().toISOString(),
    };
  }

  async #probe(role: ClientRole, c: RedisClient): Promise<{ ok: boolean; operations: string[]; ms: number; error?: string; info?: Map<string, string> }> {
    const started = performance.now();
    const operations: string[] = [];
    const ms = (): number => Math.round((performance.now() - started) * 100) / 100;
    try {
      await c.ping();
      operations.push('PING');
      if (role === 'monitoring') {
        const info = parseInfo(await c.info());
        operations.push('INFO');
        await c.dbsize();
        operations.push('DBSIZE');
        return { ok: true, operations, ms: ms(), info };
      }
      const nonce = randomBytes(6).toString('hex');
      const key = this.#keys.probe(role, nonce);
      await c.set(key, '1', 'EX', 10);
      operations.push('SET');
      const v = await c.get(key);
      operations.push('GET');
      await c.del(key);
      operations.push('DEL');
      if (this.#config.settings.DJANGO_COMPAT && role !== 'master') operations.push(...(await djangoProbe(role, c, nonce)));
      return { ok: v === '1', operations, ms: ms() };
    } catch (err) {
      // ioredis rejects commands with "Connection is closed." after a failed handshake; the handshake's own
      // error names the cause (untrusted, expired, wrong name, client certificate, TLS/plaintext mismatch).
      const tls = this.#clients.tlsFailure(c);
      return { ok: false, operations, ms: ms(), error: tls ? safeError(new Error(`${tls.code}: ${tls.message}`)) : safeError(err) };
    }
  }
}
