/**
 * The worker's HTTP endpoint (`naboom worker --metrics-port`): `GET /metrics` (Prometheus text; with
 * METRICS_TOKEN set, only for `Authorization: Bearer <token>`) and `GET /health/live` (the API's body). Nothing else, no
 * Redis, no secrets; errors in the same `{"error":{"code","message"}}` shape as the API.
 */
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { NaboomError, type ErrorCode } from '../errors/catalogue.js';
import { liveBody } from '../health/live.js';
import { errorBody } from '../http/errors.js';
import type { Logger } from '../log/logger.js';
import { metricsAuthorized, type Metrics } from '../metrics/registry.js';

export interface MetricsServer {
  readonly url: string;
  close(): Promise<void>;
}

function fail(res: ServerResponse, code: ErrorCode, message: string): void {
  const err = new NaboomError(code, message);
  res.writeHead(err.status, { 'content-type': 'application/json; charset=utf-8' });
  res.end(JSON.stringify(errorBody(err)));
}

/** Listens on host:port for /metrics and /health/live; `close` ends every connection. */
export async function startMetricsServer(opts: { metrics: Metrics; token: string | undefined; host: string; port: number; logger: Logger }): Promise<MetricsServer> {
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') return fail(res, 'NABOOM_NOT_FOUND', `No route ${req.method ?? ''} ${path ?? ''}`);
    if (path === '/health/live') {
      res.writeHead(200, { 'content-type': 'application/json; charset=utf-8' });
      res.end(JSON.stringify(liveBody()));
      return;
    }
    if (path !== '/metrics') return fail(res, 'NABOOM_NOT_FOUND', `No route GET ${path ?? ''}; this endpoint serves /metrics and /health/live`);
    if (!metricsAuthorized(req.headers.authorization, opts.token)) return fail(res, 'NABOOM_UNAUTHENTICATED', 'Send the METRICS_TOKEN as a bearer token');
    opts.metrics.registry.metrics().then(
      (text) => {
        res.writeHead(200, { 'content-type': opts.metrics.registry.contentType });
        res.end(text);
      },
      (err: unknown) => {
        opts.logger.error({ err }, 'could not collect metrics');
        fail(res, 'NABOOM_INTERNAL', 'Could not collect metrics');
      },
    );
  });
  server.keepAliveTimeout = 5000;
  await new Promise<void>((resolve, reject) => {
    const onError = (err: Error): void =>
      reject(new NaboomError('NABOOM_USAGE', `Cannot serve metrics on ${opts.host}:${opts.port}: ${err.message}`, { cause: err, hint: 'Choose a free --metrics-port (0 picks one).' }));
    server.once('error', onError);
    server.listen(opts.port, opts.host, () => {
      server.off('error', onError);
      resolve();
    });
  });
  const addr = server.address() as AddressInfo;
  const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  return {
    url: `http://${host}:${addr.port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
