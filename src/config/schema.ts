/**
 * The one configuration schema (docs/contract.md §2). Every variable Naboom reads is declared here with its default;
 * `loadConfig` validates the environment against it once at start and freezes the result.
 */
import { isIP } from 'node:net';
import { z } from 'zod';
import { checkAttribution, checkTileTemplate } from './map.js';
import { DEFAULT_PUSH_SERVICE_HOSTS, PUSH_HOST_ENTRY } from './push-hosts.js';

const bool = z
  .string()
  .trim()
  .toLowerCase()
  .refine((v) => ['1', '0', 'true', 'false', 'yes', 'no', 'on', 'off', ''].includes(v), 'must be true or false')
  .transform((v) => ['1', 'true', 'yes', 'on'].includes(v));

const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);
const port = int(1, 65535);

/** The items of a comma-separated setting, trimmed, empty ones dropped. */
export const commaList = (v: string): string[] => v.split(',').map((s) => s.trim()).filter(Boolean);

const hostPortList = z
  .string()
  .trim()
  .transform((v, ctx) => {
    const out: { host: string; port: number }[] = [];
    for (const part of commaList(v)) {
      const m = /^(\[[^\]]+\]|[^:]+):(\d{1,5})$/.exec(part);
      const p = m ? Number(m[2]) : NaN;
      if (!m || !m[1] || p < 1 || p > 65535) {
        ctx.addIssue({ code: 'custom', message: `"${part}" is not host:port` });
        return z.NEVER;
      }
      out.push({ host: m[1].replace(/^\[|\]$/g, ''), port: p });
    }
    if (out.length === 0) {
      ctx.addIssue({ code: 'custom', message: 'needs at least one host:port' });
      return z.NEVER;
    }
    return out;
  });

const urlList = z
  .string()
  .trim()
  .transform((v, ctx) => {
    const urls = commaList(v);
    for (const u of urls) {
      let ok = false;
      try {
        const parsed = new URL(u);
        ok = parsed.protocol === 'http:' || parsed.protocol === 'https:';
      } catch {
        ok = false;
      }
      if (!ok) {
        ctx.addIssue({ code: 'custom', message: `"${u}" is not an http(s) URL` });
        return z.NEVER;
      }
    }
    return urls;
  });

/** PUSH_SERVICE_HOSTS: host names (`*.` for any subdomain) and addresses, lower-cased. */
const pushHostList = z
  .string()
  .trim()
  .transform((v, ctx) => {
    const hosts = commaList(v).map((s) => s.toLowerCase());
    const bad = hosts.filter((h) => !PUSH_HOST_ENTRY.test(h));
    if (bad.length > 0 || hosts.length === 0) {
      ctx.addIssue({ code: 'custom', message: hosts.length === 0 ? 'needs at least one push service host' : `"${bad.join(', ')}" is not a host name (\`*.\` for any subdomain), an IPv4 address or a [bracketed] IPv6 one` });
      return z.NEVER;
    }
    return hosts;
  });

/** proxy-addr's named ranges, accepted in a TRUST_PROXY list. */
const PROXY_RANGES = ['loopback', 'linklocal', 'uniquelocal'];

const isAddressOrCidr = (v: string): boolean => {
  if (PROXY_RANGES.includes(v)) return true;
  const slash = v.indexOf('/');
  const addr = slash < 0 ? v : v.slice(0, slash);
  const family = isIP(addr);
  if (family === 0) return false;
  if (slash < 0) return true;
  const bits = v.slice(slash + 1);
  return /^\d{1,3}$/.test(bits) && Number(bits) <= (family === 4 ? 32 : 128);
};

/**
 * TRUST_PROXY: `false`, a hop count, or the proxies' addresses/CIDRs. `true` is refused: it trusts every
 * hop, so the left-most X-Forwarded-For — which the client writes — would become the client IP.
 */
const trustProxy = z
  .string()
  .trim()
  .transform((v, ctx): false | number | string[] => {
    const lower = v.toLowerCase();
    if (['', 'false', 'no', 'off', '0'].includes(lower)) return false;
    if (['true', 'yes', 'on'].includes(lower)) {
      ctx.addIssue({
        code: 'custom',
        message:
          'true is refused: it trusts every hop, so a client chooses its own IP with X-Forwarded-For (and can lock others out of login). ' +
          'Set the number of proxies in front of Naboom (1 behind one nginx) or their addresses/CIDRs (e.g. 10.0.0.5,10.0.1.0/24)',
      });
      return z.NEVER;
    }
    if (/^\d+$/.test(v)) {
      const hops = Number(v);
      if (hops > 32) {
        ctx.addIssue({ code: 'custom', message: `${v} hops is not plausible; set the number of proxies in front of Naboom (e.g. 1)` });
        return z.NEVER;
      }
      return hops;
    }
    const list = commaList(v);
    const bad = list.filter((s) => !isAddressOrCidr(s));
    if (bad.length > 0) {
      ctx.addIssue({ code: 'custom', message: `"${bad.join(', ')}" is not a hop count, an IP address or a CIDR` });
      return z.NEVER;
    }
    return list;
  });

/** ALLOWED_ORIGINS: `scheme://host[:port]` entries, normalised as browsers send them in `Origin`. */
const originList = z
  .string()
  .trim()
  .transform((v, ctx) => {
    const out: string[] = [];
    for (const part of commaList(v)) {
      let origin: string | undefined;
      try {
        const u = new URL(part);
        if ((u.protocol === 'http:' || u.protocol === 'https:') && (u.pathname === '/' || u.pathname === '') && !u.search && !u.hash && !u.username) origin = u.origin;
      } catch {
        origin = undefined;
      }
      if (!origin || part.replace(/\/$/, '').toLowerCase() !== origin.toLowerCase()) {
        ctx.addIssue({ code: 'custom', message: `"${part}" is not an origin (scheme://host[:port], no path)` });
        return z.NEVER;
      }
      out.push(origin);
    }
    return out;
  });

/** VAPID_SUBJECT (RFC 8292): how a push service reaches the operator, a mailto: address or an https: URL. */
const vapidSubject = z
  .string()
  .trim()
  .refine((v) => {
    try {
      const u = new URL(v);
      return (u.protocol === 'mailto:' && /^[^@\s]+@[^@\s]+$/.test(u.pathname)) || (u.protocol === 'https:' && u.hostname !== '');
    } catch {
      return false;
    }
  }, 'must be a mailto: address or an https: URL');

/** VAPID_PUBLIC_KEY: an uncompressed P-256 point (65 bytes, first 0x04) in base64url without padding. */
const vapidPublicKey = z
  .string()
  .trim()
  .regex(/^B[A-Za-z0-9_-]{85}[AEIMQUYcgkosw048]$/, 'must be the base64url (no padding) of a 65-byte uncompressed P-256 public key (`naboom init` writes one)');

/** MAP_TILES_URL: an XYZ raster template; checked strictly (src/config/map.ts), since its origin enters the CSP. */
const tileTemplate = z
  .string()
  .trim()
  .superRefine((v, ctx) => {
    const checked = checkTileTemplate(v);
    if (!checked.ok) ctx.addIssue({ code: 'custom', message: checked.problem });
  });

/** MAP_TILES_ATTRIBUTION: one line of plain text (shown as text, never as HTML). */
const attribution = z
  .string()
  .trim()
  .superRefine((v, ctx) => {
    const problem = checkAttribution(v);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  });

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/** Non-secret settings. Secrets (passwords, SECRET_KEY, METRICS_TOKEN) are handled by the loader. */
/**
 * Whether `tz` is a time zone Intl accepts. The canonical names are checked against Intl's list first: building
 * a DateTimeFormat with a time zone maps ≈ 6.5 MiB of ICU locale and zone data into every process (RSS), and
 * only the worker formats dates in TZ. Aliases (`UTC`, `US/Eastern`) fall back to the DateTimeFormat check, so
 * the accepted set is unchanged.
 */
export function isTimeZone(tz: string): boolean {
  if (Intl.supportedValuesOf('timeZone').includes(tz)) return true;
  try {
    new Intl.DateTimeFormat('en', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

export const settingsSchema = z.object({
  REDIS_MASTER_USER: z.string().trim().min(1).default('default'),
  REDIS_APP_USER: z.string().trim().min(1).default('app_user'),
  REDIS_WEBSOCKET_USER: z.string().trim().min(1).default('websocket_user'),
  REDIS_REALTIME_USER: z.string().trim().min(1).default('realtime_user'),
  REDIS_MONITORING_USER: z.string().trim().min(1).default('monitoring_user'),
  REDIS_REPLICA_USER: z.string().trim().min(1).default('replica_user'),
  REDIS_SENTINEL_USER: z.string().trim().min(1).default('sentinel_user'),

  REDIS_HOST: z.string().trim().min(1).default('127.0.0.1'),
  REDIS_PORT: port.default(6379),
  REDIS_TLS: bool.default(false),
  REDIS_TLS_CA_FILE: z.string().trim().min(1).optional(),
  /** Mutual TLS: the client certificate (PEM); its key is a secret (REDIS_TLS_KEY_FILE, read by the loader). */
  REDIS_TLS_CERT_FILE: z.string().trim().min(1).optional(),
  /** The name the server's certificate must carry when it differs from the host Naboom connects to. */
  REDIS_TLS_SERVERNAME: z.string().trim().min(1).optional(),
  REDIS_SENTINELS: hostPortList.optional(),
  REDIS_SENTINEL_MASTER: z.string().trim().min(1).default('naboom'),
  REDIS_CLUSTER_NODES: hostPortList.optional(),
  REDIS_COMMAND_TIMEOUT_MS: int(50, 60_000).default(2000),
  /** Every API request (except the long-lived SSE/WebSocket feeds) is answered within this; keep it above REDIS_COMMAND_TIMEOUT_MS. */
  REQUEST_DEADLINE_MS: int(100, 600_000).default(3000),

  HOST: z.string().trim().min(1).default('127.0.0.1'),
  PORT: int(0, 65535).default(8000),
  /** `naboom serve` processes sharing PORT on this host (node:cluster); unset: one per core. */
  SERVE_WORKERS: int(1, 256).optional(),
  TRUST_PROXY: trustProxy.default(false),
  COOKIE_SECURE: bool.default(false),
  ALLOWED_ORIGINS: originList.default([]),
  SESSION_TTL_S: int(1, 31 * 86_400).default(86_400),
  BODY_LIMIT: int(1024, 10 * 1024 * 1024).default(64 * 1024),
  REQUEST_RECEIVE_TIMEOUT_MS: int(100, 600_000).default(10_000),
  KEEP_ALIVE_TIMEOUT_MS: int(100, 600_000).default(72_000),
  LOG_LEVEL: z.enum(LOG_LEVELS).default('info'),
  TZ: z
    .string()
    .trim()
    .default('Africa/Johannesburg')
    .refine(isTimeZone, 'is not an IANA time zone'),

  RATE_LIMIT_ALERTS_PER_USER: int(1, 1_000_000).default(30),
  RATE_LIMIT_ALERTS_PER_IP: int(1, 1_000_000).default(300),
  /** Location updates per user per window (`PATCH …/:id/location`; the panic page sends one every few seconds at most). */
  RATE_LIMIT_LOCATIONS_PER_USER: int(1, 1_000_000).default(60),
  /** Presence reports per user per window (`PUT /api/responders/me`; the dashboard sends one every 15 s at most, sooner after 50 m of movement; 120 leaves room for several tabs). */
  RATE_LIMIT_PRESENCE_PER_USER: int(1, 1_000_000).default(120),
  RATE_LIMIT_LOGINS: int(1, 1_000_000).default(10),
  RATE_LIMIT_LOGINS_PER_IP: int(1, 1_000_000).default(30),
  LOGIN_CONCURRENCY: int(1, 64).default(4),
  LOGIN_QUEUE: int(0, 10_000).default(16),
  HEALTH_CACHE_MS: int(0, 60_000).default(2000),
  RATE_LIMIT_WINDOW_S: int(1, 86_400).default(60),
  RATE_LIMIT_MESSAGES_PER_USER: int(1, 1_000_000).default(60),

  ALERT_STREAM_MAXLEN: int(100, 100_000_000).default(100_000),
  ALERT_STATE_TTL_DAYS: int(1, 3650).default(90),
  ESCALATE_AFTER_S: int(1, 86_400).default(120),
  ALERT_MIN_REPLICAS: int(0, 16).optional(),
  ALERT_REPLICATION_TIMEOUT_MS: int(1, 60_000).default(1000),
  THREAD_MAX_MESSAGES: int(1, 10_000).default(500),
  RELATED_RADIUS_M: int(0, 100_000).default(300),
  RELATED_WINDOW_S: int(0, 86_400).default(600),

  // Responder presence and the dispatch policy (README "Responder presence and privacy", "Dispatch policy").
  RESPONDER_STALE_S: int(1, 86_400).default(300),
  DISPATCH_RADIUS_KM: z.coerce.number().min(0.1).max(200).default(10),
  DISPATCH_NEAREST_N: int(1, 100).default(5),

  CHANNEL_CAPACITY: int(1, 1_000_000).default(8000),
  CHANNEL_EXPIRY_S: int(1, 86_400).default(300),
  GROUP_EXPIRY_S: int(1, 31 * 86_400).default(86_400),

  // The live feed (WebSocket and SSE), per serve process.
  LIVE_HEARTBEAT_MS: int(50, 3_600_000).default(15_000),
  LIVE_MAX_CONNECTIONS_PER_USER: int(1, 100_000).default(20),
  LIVE_SUBSCRIBES_PER_MIN: int(1, 1_000_000).default(30),
  LIVE_AUTH_RECHECK_MS: int(50, 60_000).default(2000),

  QUEUE_CONCURRENCY: int(1, 1000).default(6),
  JOB_ATTEMPTS: int(1, 100).default(5),
  JOB_SOFT_LIMIT_S: int(1, 86_400).default(240),
  JOB_HARD_LIMIT_S: int(1, 86_400).default(300),
  NOTIFY_WEBHOOK_URLS: urlList.default([]),
  NOTIFY_WEBHOOK_TIMEOUT_MS: int(100, 120_000).default(5000),

  /** The panic page's countdown before an alert is sent (0: at once); README "Panic page for residents". */
  PANIC_COUNTDOWN_S: int(0, 30).default(5),

  // Web Push (README "Push notifications for responders"); VAPID_PRIVATE_KEY is a secret, read by the loader.
  VAPID_PUBLIC_KEY: vapidPublicKey.optional(),
  VAPID_SUBJECT: vapidSubject.optional(),
  PUSH_MAX_SUBSCRIPTIONS_PER_USER: int(1, 100).default(10),
  PUSH_TTL_S: int(0, 86_400).default(300),
  PUSH_TIMEOUT_MS: int(100, 120_000).default(5000),
  /** The only hosts push endpoints may point at (the worker POSTs to them); see push/model.ts. */
  PUSH_SERVICE_HOSTS: pushHostList.default([...DEFAULT_PUSH_SERVICE_HOSTS]),

  // The dashboard's basemap (README "Map configuration"); unset: the bundled offline outline of South Africa.
  MAP_TILES_URL: tileTemplate.optional(),
  MAP_TILES_ATTRIBUTION: attribution.optional(),
  MAP_TILES_MAX_ZOOM: int(0, 24).optional(),

  CAP_SENDER: z.string().trim().min(1).max(200).default('naboom@localhost'),

  /** The original Django services share this Redis: the ACL adds the Django profile (src/redis/django.ts). */
  DJANGO_COMPAT: bool.default(false),

  NABOOM_REDIS_PORT: port.default(6380),
  /** `naboom dev` runs its local Redis TLS-only with certificates under NABOOM_DATA_DIR/tls. */
  NABOOM_REDIS_TLS: bool.default(false),
  NABOOM_DATA_DIR: z.string().trim().min(1).default('.naboom'),
});

export type Settings = z.output<typeof settingsSchema>;
