/**
 * Prometheus metrics (prom-client). One `Metrics` per process, created by the entry point and passed down;
 * never a global registry, so tests can run several services side by side.
 */
import { timingSafeEqual } from 'node:crypto';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export class Metrics {
  readonly registry = new Registry();

  // Redis
  readonly redisNoPerm = new Counter({ name: 'naboom_redis_noperm_total', help: 'NOPERM replies received, by role', labelNames: ['role'] as const, registers: [this.registry] });

  // cache
  readonly cacheRequests = new Counter({ name: 'naboom_cache_requests_total', help: 'Cache lookups by cache and result (hit, miss)', labelNames: ['cache', 'result'] as const, registers: [this.registry] });
  readonly cacheErrors = new Counter({ name: 'naboom_cache_errors_total', help: 'Cache operations that failed and degraded to a miss', labelNames: ['cache', 'op'] as const, registers: [this.registry] });

  // channel layer
  readonly channelFull = new Counter({ name: 'naboom_channel_full_total', help: 'Messages not stored because the channel was at capacity', labelNames: ['operation'] as const, registers: [this.registry] });
  readonly groupSkipped = new Counter({ name: 'naboom_channel_group_skipped_total', help: 'Group members skipped by group send because their channel was full', labelNames: ['group'] as const, registers: [this.registry] });
  readonly channelRejected = new Counter({ name: 'naboom_channel_rejected_total', help: 'Channel-layer messages rejected before delivery (tampered, foreign key, invalid)', labelNames: ['reason'] as const, registers: [this.registry] });

  // job queue
  readonly jobs = new Counter({ name: 'naboom_jobs_total', help: 'Jobs finished, by type and outcome (completed, failed, retried)', labelNames: ['type', 'outcome'] as const, registers: [this.registry] });
  readonly pushSent = new Counter({ name: 'naboom_push_sent_total', help: 'Web Push attempts by result (sent, gone: 404/410 and deleted, retry: 429/5xx/network, rejected, skipped: subscription already deleted, refused: endpoint not on a push service in PUSH_SERVICE_HOSTS)', labelNames: ['result'] as const, registers: [this.registry] });
  readonly jobDuration = new Histogram({ name: 'naboom_job_duration_seconds', help: 'Job processing time', labelNames: ['type'] as const, buckets: [0.01, 0.05, 0.1, 0.5, 1, 5, 30, 120, 300], registers: [this.registry] });

  // alerts
  readonly alertsRaised = new Counter({ name: 'naboom_alerts_raised_total', help: 'Alerts raised, by severity', labelNames: ['severity'] as const, registers: [this.registry] });
  readonly ingestLatency = new Histogram({ name: 'naboom_alert_ingest_seconds', help: 'Time from request to durable 201', buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1], registers: [this.registry] });
  readonly deliveryLatency = new Histogram({ name: 'naboom_live_delivery_seconds', help: 'Time from alert id (creation) to frame written to a live client; sampled: one alert per transport per feed read (and per alert sent from a backed-up queue)', labelNames: ['transport'] as const, buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5], registers: [this.registry] });
  readonly liveClients = new Gauge({ name: 'naboom_live_clients', help: 'Connected live-feed clients', labelNames: ['transport'] as const, registers: [this.registry] });
  readonly escalations = new Counter({ name: 'naboom_escalations_total', help: 'Alert escalations fired', registers: [this.registry] });
  readonly rateLimited = new Counter({ name: 'naboom_rate_limited_total', help: 'Requests refused with 429, by limit', labelNames: ['limit'] as const, registers: [this.registry] });
  readonly slowClients = new Counter({ name: 'naboom_live_slow_clients_total', help: 'Live clients disconnected because they could not keep up', labelNames: ['transport'] as const, registers: [this.registry] });
  readonly liveOversizedFrames = new Counter({ name: 'naboom_live_oversized_frames_total', help: 'WebSocket frames over the size limit (the socket is closed with 1009)', registers: [this.registry] });
  readonly liveRefused = new Counter({ name: 'naboom_live_refused_total', help: 'Live connections or subscribes refused, by reason (connection_cap, subscribe_rate, credential, not_reading)', labelNames: ['reason'] as const, registers: [this.registry] });

  #source: (() => Promise<string>) | undefined;

  constructor(opts: { defaultMetrics?: boolean } = {}) {
    if (opts.defaultMetrics) collectDefaultMetrics({ register: this.registry, prefix: 'naboom_process_' });
  }

  /** Makes /metrics answer from another source (a serve worker: every worker's metrics, see cluster.ts). */
  exposeFrom(source: () => Promise<string>): void {
    this.#source = source;
  }

  /** The text /metrics answers with: this registry, unless `exposeFrom` named another source. */
  text(): Promise<string> {
    return this.#source ? this.#source() : this.registry.metrics();
  }
}

/**
 * Whether a request may read the metrics: always when no METRICS_TOKEN is set, else only with
 * `Authorization: Bearer <token>` (compared in constant time).
 */
export function metricsAuthorized(authorization: string | undefined, token: string | undefined): boolean {
  if (!token) return true;
  const m = /^Bearer\s+(\S+)$/i.exec(authorization ?? '');
  if (!m?.[1]) return false;
  const given = Buffer.from(m[1]);
  const wanted = Buffer.from(token);
  return given.length === wanted.length && timingSafeEqual(given, wanted);
}
