/**
 * Property test of the WebSocket live feed against hostile frames (real server, real Redis with the generated
 * ACL): generated JSON values, near-valid subscribe messages with hostile fields, text that is not JSON,
 * invalid UTF-8, binary frames and frames over the size limit. Properties: the server answers every frame
 * with an error frame, a subscription or a close code a client can act on (never 1011, never silence), it
 * never writes to Redis because of a frame, and it stays healthy: a plain subscriber still receives the next
 * alert afterwards.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { auth, post, sampleAlert, startStack, WsClient, type Stack } from '../helpers/stack.js';
import { hostileJson, mostly, PROTO_KEYS, snapshot, trickyString } from './hostile.js';

/** Close codes a hostile frame may earn: policy (1008), invalid UTF-8 (1007), too big (1009), protocol (1002). */
const ACCEPTABLE_CLOSE = new Set([1002, 1007, 1008, 1009]);

type Wire = { readonly kind: 'text'; readonly data: string } | { readonly kind: 'bytes' | 'binary'; readonly data: Buffer };

const subscribeLike: fc.Arbitrary<unknown> = fc
  .record(
    {
      type: mostly(fc.constantFrom('subscribe', 'SUBSCRIBE', 'unsubscribe', 'ping')),
      severities: mostly(fc.array(fc.constantFrom('critical', 'high', 'medium', 'low', '../x', '', '*'), { maxLength: 6 })),
      since: mostly(fc.oneof(fc.constantFrom('0-0', '18446744073709551615-18446744073709551615', '99999999999999999999-0', '1-0'), trickyString)),
    },
    { requiredKeys: ['type'] },
  )
  .chain((r) =>
    fc.option(fc.tuple(fc.constantFrom(...PROTO_KEYS), hostileJson), { nil: undefined }).map((extra) => {
      if (!extra) return r;
      const out: Record<string, unknown> = { ...r };
      Object.defineProperty(out, extra[0], { value: extra[1], enumerable: true, configurable: true, writable: true });
      return out;
    }),
  );

const wire: fc.Arbitrary<Wire> = fc.oneof(
  { weight: 4, arbitrary: subscribeLike.map((v): Wire => ({ kind: 'text', data: JSON.stringify(v) })) },
  { weight: 2, arbitrary: hostileJson.map((v): Wire => ({ kind: 'text', data: JSON.stringify(v) ?? 'null' })) },
  fc.constantFrom<Wire>(
    { kind: 'text', data: '' },
    { kind: 'text', data: '{' },
    { kind: 'text', data: 'not json' },
    { kind: 'text', data: '{"type":"subscribe","since":"\\ud800"}' },
    { kind: 'text', data: `${'['.repeat(3000)}${']'.repeat(3000)}` },
    { kind: 'text', data: JSON.stringify({ type: 'subscribe', since: 'x'.repeat(5000) }) },
    { kind: 'binary', data: Buffer.from(JSON.stringify({ type: 'subscribe' })) },
  ),
  fc.uint8Array({ maxLength: 64 }).map((bytes): Wire => ({ kind: 'binary', data: Buffer.from(bytes) })),
  // Invalid UTF-8 in a text frame: ws must refuse it (1007), not hand it to the handler.
  fc.uint8Array({ maxLength: 16 }).map((bytes): Wire => ({ kind: 'bytes', data: Buffer.concat([Buffer.from([0xc3, 0x28]), Buffer.from(bytes)]) })),
);

/** The frame sent after the hostile ones: its `subscribed` (recognised by this `since`) and `live` prove the socket still works. */
const SENTINEL_SINCE = '7-3';
const sentinel: Wire = { kind: 'text', data: JSON.stringify({ type: 'subscribe', since: SENTINEL_SINCE }) };

interface Outcome {
  readonly frames: { type: string; code?: string; since?: string }[];
  readonly close: number | undefined;
  readonly answered: boolean;
}

/** Opens a socket, sends the hostile frames and the sentinel, and waits for the sentinel's `live` or a close. */
async function exchange(url: string, headers: Record<string, string>, frames: readonly Wire[]): Promise<Outcome> {
  const ws = new WebSocket(`${url.replace(/^http/, 'ws')}/ws`, { headers });
  const received: { type: string; code?: string; since?: string }[] = [];
  let close: number | undefined;
  let sentinelSubscribed = false;
  let answered = false;
  let wake: (() => void) | undefined;
  const closed = new Promise<void>((resolve) =>
    ws.once('close', (code) => {
      close = code;
      wake?.();
      resolve();
    }),
  );
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  ws.on('message', (d: Buffer) => {
    const f = JSON.parse(d.toString()) as { type: string; code?: string; since?: string };
    received.push(f);
    if (f.type === 'subscribed' && f.since === SENTINEL_SINCE) sentinelSubscribed = true;
    if (f.type === 'live' && sentinelSubscribed) answered = true;
    wake?.();
  });
  for (const f of [...frames, sentinel]) ws.send(f.data, { binary: f.kind === 'binary' });
  const deadline = Date.now() + 5000;
  while (!answered && close === undefined && Date.now() < deadline) {
    await new Promise<void>((resolve) => {
      wake = resolve;
      setTimeout(resolve, Math.max(1, deadline - Date.now()));
    });
  }
  const result: Outcome = { frames: [...received], close, answered };
  if (close === undefined) {
    ws.close();
    await closed;
  }
  return result;
}

describe('WebSocket live feed under hostile frames (property test)', () => {
  let s: Stack;
  beforeAll(async () => {
    s = await startStack({ env: { LIVE_SUBSCRIBES_PER_MIN: '100000', RATE_LIMIT_ALERTS_PER_USER: '1000' }, escalationIntervalMs: 3_600_000 });
    await post(`${s.url}/api/emergency/alerts`, sampleAlert(), auth(s.member));
  });
  afterAll(async () => {
    await s?.stop();
  });

  it('answers every hostile frame with an error, a subscription or an actionable close, and writes nothing', async () => {
    const seen = new Map<string, number>();
    await fc.assert(
      fc.asyncProperty(fc.array(wire, { minLength: 1, maxLength: 3 }), fc.constantFrom(s.member, s.responder), async (frames, who) => {
        const before = await snapshot(s.admin);
        const out = await exchange(s.url, auth(who), frames);
        const label = JSON.stringify(frames).slice(0, 300);
        for (const f of out.frames) if (f.type === 'error') seen.set(f.code ?? '?', (seen.get(f.code ?? '?') ?? 0) + 1);
        if (out.close !== undefined && !out.answered) {
          seen.set(`close ${out.close}`, (seen.get(`close ${out.close}`) ?? 0) + 1);
          expect(ACCEPTABLE_CLOSE.has(out.close), `close ${out.close} for ${label}`).toBe(true);
        } else {
          // Still open: the frame after the hostile ones was served (no silence, no stuck subscription).
          expect(out.answered, `${label} → ${JSON.stringify(out.frames).slice(0, 300)}`).toBe(true);
        }
        expect(out.frames.some((f) => f.type === 'error' && f.code === 'NABOOM_INTERNAL'), label).toBe(false);
        expect(await snapshot(s.admin), label).toBe(before);
      }),
      { numRuns: 40, endOnFailure: true, examples: [[[{ kind: 'text', data: '{"type":"subscribe"}' }], s.responder]] },
    );
    process.stdout.write(`[ws fuzz] ${JSON.stringify([...seen])}\n`);
    // The generators reached both refusals and real subscriptions.
    expect([...seen.keys()]).toContain('NABOOM_VALIDATION');
  });

  it('still delivers to a plain subscriber afterwards, and no subscription leaked', async () => {
    const ws = new WsClient(s.url, auth(s.responder));
    await ws.open();
    ws.subscribe();
    await ws.until((f) => f.some((x) => x.type === 'live'));
    const r = await post(`${s.url}/api/emergency/alerts`, sampleAlert({ severity: 'critical' }), auth(s.member));
    expect(r.status).toBe(201);
    const id = (r.body as { alert_id: string }).alert_id;
    await ws.until((f) => f.some((x) => x.type === 'alert' && x.id === id));
    ws.close();
    // Every socket of the property run is closed: only this one may still count, and it is closing.
    const metrics = await fetch(`${s.url}/metrics`, { headers: { authorization: `Bearer ${s.redis.env['METRICS_TOKEN'] ?? ''}` } });
    const text = await metrics.text();
    const live = [...text.matchAll(/^naboom_live_clients\{transport="ws"\} (\d+)/gm)].map((m) => Number(m[1]));
    expect(live.length).toBe(1);
    expect(live[0]).toBeLessThanOrEqual(1);
  });
});
