/**
 * The one configuration schema (SPEC §2). Every variable Naboom reads is declared here with its default;
 * `loadConfig` validates the environment against it once at start and freezes the result.
 */
import { z } from 'zod';

const bool = z
  .string()
  .trim()
  .toLowerCase()
  .refine((v) => ['1', '0', 'true', 'false', 'yes', 'no', 'on', 'off', ''].includes(v), 'must be true or false')
  .transform((v) => ['1', 'true', 'yes', 'on'].includes(v));

const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);
const port = int(1, 65535);

const hostPortList = z
  .string()
  .trim()
  .transform((v, ctx) => {
    const out: { host: string; port: number }[] = [];
    for (const part of v.split(',').map((s) => s.trim()).filter(Boolean)) {
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
    const urls = v.split(',').map((s) => s.trim()).filter(Boolean);
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

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/** Non-secret settings. Secrets (passwords, SECRET_KEY, METRICS_TOKEN) are handled by the loader. */
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
  REDIS_SENTINELS: hostPortList.optional(),
  REDIS_SENTINEL_MASTER: z.string().trim().min(1).default('naboom'),
  REDIS_CLUSTER_NODES: hostPortList.optional(),
  REDIS_COMMAND_TIMEOUT_MS: int(50, 60_000).default(2000),

  HOST: z.string().trim().min(1).default('127.0.0.1'),
  PORT: int(0, 65535).default(8000),
  TRUST_PROXY: bool.default(false),
  COOKIE_SECURE: bool.default(false),
  BODY_LIMIT: int(1024, 10 * 1024 * 1024).default(64 * 1024),
  LOG_LEVEL: z.enum(LOG_LEVELS).default('info'),
  TZ: z
    .string()
    .trim()
    .default('Africa/Johannesburg')
    .refine((tz) => {
      try {
        new Intl.DateTimeFormat('en', { timeZone: tz });
        return true;
      } catch {
        return false;
      }
    }, 'is not an IANA time zone'),

  RATE_LIMIT_ALERTS_PER_USER: int(1, 1_000_000).default(30),
  RATE_LIMIT_ALERTS_PER_IP: int(1, 1_000_000).default(300),
  RATE_LIMIT_LOGINS: int(1, 1_000_000).default(10),

  ALERT_STREAM_MAXLEN: int(100, 100_000_000).default(100_000),
  ALERT_STATE_TTL_DAYS: int(1, 3650).default(90),
  ESCALATE_AFTER_S: int(1, 86_400).default(120),
  ALERT_MIN_REPLICAS: int(0, 16).optional(),
  ALERT_REPLICATION_TIMEOUT_MS: int(1, 60_000).default(1000),

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

  CAP_SENDER: z.string().trim().min(1).max(200).default('naboom@localhost'),

  NABOOM_REDIS_PORT: port.default(6380),
  NABOOM_DATA_DIR: z.string().trim().min(1).default('.naboom'),
});

export type Settings = z.output<typeof settingsSchema>;
