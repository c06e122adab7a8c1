/**
 * `naboom verify --url URL`: one alert through a running server end to end — raised over HTTP, seen on the
 * SSE feed, acknowledged and resolved — as a temporary responder account that is removed afterwards.
 * The alert is low severity, type "other", and says it is a deployment check.
 */
import { randomBytes } from 'node:crypto';
import { UserStore } from '../auth/users.js';
import { RoleClients } from '../redis/connections.js';
import type { CheckResult, VerifyContext } from './types.js';

const TIMEOUT_MS = 10_000;

interface Step {
  name: string;
  ok: boolean;
  detail: string;
}

/** Reads SSE events until one with `id` arrives or the deadline passes. */
async function waitForEvent(body: ReadableStream<Uint8Array>, id: string, deadline: number): Promise<boolean> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buf = '';
  const timer = setTimeout(() => void reader.cancel(), Math.max(0, deadline - Date.now()));
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return false;
      buf += decoder.decode(value, { stream: true });
      if (buf.includes(`id: ${id}\n`)) return true;
    }
  } catch {
    return false;
  } finally {
    clearTimeout(timer);
    await reader.cancel().catch(() => undefined);
  }
}

export function apiRoundTrip(baseUrl: string): (ctx: VerifyContext) => Promise<CheckResult[]> {
  const url = baseUrl.replace(/\/+$/, '');
  return async (ctx) => {
    const clients = new RoleClients(ctx.config, ctx.logger);
    const users = new UserStore(clients.get('app'), ctx.keys);
    const username = `naboom-verify-${randomBytes(4).toString('hex')}`;
    const steps: Step[] = [];
    const controller = new AbortController();
    try {
      await users.add(username, 'responder', randomBytes(24).toString('base64url'));
      const token = await users.issueToken(username);
      const headers = { authorization: `Bearer ${token}` };
      const deadline = Date.now() + TIMEOUT_MS;

      const health = await fetch(`${url}/health/ready`, { signal: AbortSignal.timeout(TIMEOUT_MS) });
      steps.push({ name: 'server is ready', ok: health.ok, detail: `GET /health/ready → ${health.status}` });

      const stream = await fetch(`${url}/api/emergency/stream?severities=low`, { headers, signal: controller.signal });
      steps.push({ name: 'SSE feed accepts a responder', ok: stream.ok && stream.body !== null, detail: `GET /api/emergency/stream → ${stream.status}` });

      const raised = await fetch(`${url}/api/emergency/alerts`, {
        method: 'POST',
        headers: { ...headers, 'content-type': 'application/json', 'idempotency-key': username },
        body: JSON.stringify({ type: 'other', severity: 'low', location: { lat: 0, lon: 0 }, description: 'naboom verify: deployment check, resolved automatically' }),
        signal: AbortSignal.timeout(TIMEOUT_MS),
      });
      const body = (await raised.json()) as { alert_id?: string };
      const id = body.alert_id;
      steps.push({ name: 'raise an alert (201)', ok: raised.status === 201 && !!id, detail: `POST /api/emergency/alerts → ${raised.status}${id ? ` ${id}` : ''}` });

      if (id && stream.body) {
        const seen = await waitForEvent(stream.body, id, deadline);
        steps.push({ name: 'the alert arrives on the live feed', ok: seen, detail: seen ? `SSE event id ${id}` : `not seen within ${TIMEOUT_MS} ms` });
        for (const action of ['ack', 'resolve'] as const) {
          const r = await fetch(`${url}/api/emergency/alerts/${id}/${action}`, { method: 'POST', headers, signal: AbortSignal.timeout(TIMEOUT_MS) });
          steps.push({ name: `${action} it`, ok: r.status === 200, detail: `POST …/${action} → ${r.status}` });
        }
      }
    } catch (err) {
      steps.push({ name: 'reach the server', ok: false, detail: err instanceof Error ? err.message : String(err) });
    } finally {
      controller.abort();
      await users.remove(username).catch(() => undefined);
      await clients.close();
    }
    return steps.map((s) => ({
      section: 'api',
      name: s.name,
      status: s.ok ? 'pass' : 'fail',
      detail: s.detail,
      ...(s.ok ? {} : { hint: `Is \`naboom serve\` running at ${url} with the same environment? See its log.` }),
    }));
  };
}
