/** The alert HTTP API end to end: real server on a free port, real Redis with the generated ACL. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auth, get, post, sampleAlert, startStack, type Stack } from '../helpers/stack.js';

interface Created {
  status: string;
  alert_id: string;
  stream: string;
  replayed: boolean;
  alert: { id: string; status: string; severity: string; reporter: { username: string }; history: { event: string; by?: { username: string } }[] };
}
interface ErrBody {
  error: { code: string; message: string; details?: unknown };
}

describe('alert API', () => {
  let s: Stack;
  let api: string;
  beforeAll(async () => {
    s = await startStack({ env: { RATE_LIMIT_ALERTS_PER_USER: '1000', RATE_LIMIT_ALERTS_PER_IP: '1000' } });
    api = `${s.url}/api/emergency/alerts`;
    await s.admin.call('ACL', 'LOG', 'RESET');
  });
  afterAll(async () => {
    await s.stop();
  });

  const realtimeKeys = async (): Promise<number> => {
    await s.admin.select(4);
    const n = await s.admin.dbsize();
    await s.admin.select(0);
    return n;
  };

  it('raises an alert: 201 once stored in the stream, the state, the cache, with the user as reporter', async () => {
    const r = await post(api, sampleAlert({ severity: 'critical', description: 'Intruder' }), auth(s.member));
    expect(r.status).toBe(201);
    const b = r.body as Created;
    expect(b).toMatchObject({ status: 'success', stream: 'panic:alerts:critical', replayed: false });
    expect(b.alert_id).toMatch(/^\d+-\d+$/);
    expect(b.alert).toMatchObject({ id: b.alert_id, status: 'open', severity: 'critical', reporter: { username: 'mia' } });
    expect(r.headers.get('location')).toBe(`/api/emergency/alerts/${b.alert_id}`);
    await s.admin.select(4);
    const entries = await s.admin.xrange('panic:alerts:critical', b.alert_id, b.alert_id);
    expect(entries).toHaveLength(1);
    expect(entries[0]?.[1]).toEqual(expect.arrayContaining(['type', 'panic', 'reporter', 'mia', 'description', 'Intruder']));
    expect(await s.admin.ttl(`emergency:alert:${b.alert_id}`)).toBeGreaterThan(3590);
    expect(await s.admin.hget(`panic:alert:${b.alert_id}`, 'status')).toBe('open');
    await s.admin.select(0);
  });

  it('defaults severity to high', async () => {
    const r = await post(api, { type: 'medical', location: { lat: 1, lon: 2 } }, auth(s.member));
    expect((r.body as Created).alert.severity).toBe('high');
  });

  it('Idempotency-Key: a retry answers 200 with the same alert_id and stores nothing twice', async () => {
    const key = `retry-${Date.now()}`;
    const first = await post(api, sampleAlert({ severity: 'low' }), { ...auth(s.member), 'idempotency-key': key });
    const before = await realtimeKeys();
    await s.admin.select(4);
    const len = await s.admin.xlen('panic:alerts:low');
    await s.admin.select(0);
    const again = await post(api, sampleAlert({ severity: 'low' }), { ...auth(s.member), 'idempotency-key': key });
    expect(first.status).toBe(201);
    expect(again.status).toBe(200);
    expect((again.body as Created).alert_id).toBe((first.body as Created).alert_id);
    expect((again.body as Created).replayed).toBe(true);
    expect(await realtimeKeys()).toBe(before);
    await s.admin.select(4);
    expect(await s.admin.xlen('panic:alerts:low')).toBe(len);
    await s.admin.select(0);
    // The key is per user: another user with the same key raises a new alert.
    const other = await post(api, sampleAlert({ severity: 'low' }), { ...auth(s.member2), 'idempotency-key': key });
    expect(other.status).toBe(201);
    expect((other.body as Created).alert_id).not.toBe((first.body as Created).alert_id);
  });

  it('rejects bad input with 400 and a stable code, writing nothing', async () => {
    const before = await realtimeKeys();
    const cases: [unknown, string, RegExp][] = [
      ['{"type": "panic", ', 'NABOOM_BAD_REQUEST', /not valid JSON/],
      [sampleAlert({ severity: '../x' }), 'NABOOM_VALIDATION', /body\/severity must be equal to one of the allowed values/],
      [{ type: 'panic' }, 'NABOOM_VALIDATION', /must have required property 'location'/],
      [sampleAlert({ location: { lat: 91, lon: 0 } }), 'NABOOM_VALIDATION', /body\/location\/lat must be <= 90/],
      [sampleAlert({ location: { lat: 0, lon: -181 } }), 'NABOOM_VALIDATION', /body\/location\/lon must be >= -180/],
      [sampleAlert({ type: 'earthquake' }), 'NABOOM_VALIDATION', /body\/type/],
      [sampleAlert({ extra: 1 }), 'NABOOM_VALIDATION', /must NOT have additional properties/],
    ];
    for (const [body, code, message] of cases) {
      const r = await post(api, body, auth(s.member));
      expect(r.status, JSON.stringify(body)).toBe(400);
      expect((r.body as ErrBody).error.code).toBe(code);
      expect((r.body as ErrBody).error.message).toMatch(message);
    }
    expect(await realtimeKeys()).toBe(before);
  });

  it('401 without credentials or with a bad token, 413 over the body limit, 415 for non-JSON', async () => {
    const none = await post(api, sampleAlert());
    expect(none.status).toBe(401);
    expect((none.body as ErrBody).error.code).toBe('NABOOM_UNAUTHENTICATED');
    const bad = await post(api, sampleAlert(), { authorization: 'Bearer nbm_notarealtokennotarealtokennotarealtokennotare' });
    expect(bad.status).toBe(401);
    expect((await get(`${api}`)).status).toBe(401);
    const big = await post(api, sampleAlert({ description: 'x'.repeat(70 * 1024) }), auth(s.member));
    expect(big.status).toBe(413);
    expect((big.body as ErrBody).error.code).toBe('NABOOM_PAYLOAD_TOO_LARGE');
    const res = await fetch(api, { method: 'POST', headers: { 'content-type': 'text/plain', ...auth(s.member) }, body: 'help' });
    expect(res.status).toBe(415);
    expect(((await res.json()) as ErrBody).error.code).toBe('NABOOM_UNSUPPORTED_MEDIA_TYPE');
  });

  it('lifecycle: ack → resolve by a responder, recorded in history; invalid transitions are 409; members get 403', async () => {
    const id = ((await post(api, sampleAlert(), auth(s.member))).body as Created).alert_id;
    const memberAck = await post(`${api}/${id}/ack`, null, auth(s.member));
    expect(memberAck.status).toBe(403);
    expect((memberAck.body as ErrBody).error.code).toBe('NABOOM_FORBIDDEN');
    const early = await post(`${api}/${id}/resolve`, null, auth(s.responder));
    expect(early.status).toBe(409);
    expect((early.body as ErrBody).error).toMatchObject({ code: 'NABOOM_INVALID_TRANSITION', details: { status: 'open' } });
    expect((await post(`${api}/${id}/ack`, null, auth(s.responder))).status).toBe(200);
    expect((await post(`${api}/${id}/ack`, null, auth(s.responder))).status).toBe(409);
    const resolved = await post(`${api}/${id}/resolve`, { note: 'Patrol on scene' }, auth(s.responder));
    expect(resolved.status).toBe(200);
    const doc = (resolved.body as { alert: Created['alert'] }).alert;
    expect(doc.status).toBe('resolved');
    expect(doc.history.map((h) => [h.event, h.by?.username])).toEqual([
      ['raised', 'mia'],
      ['acknowledged', 'rita'],
      ['resolved', 'rita'],
    ]);
    expect((await post(`${api}/${id}/cancel`, null, auth(s.responder))).status).toBe(409);
    expect((await get(`${api}/${id}`, auth(s.member))).body).toMatchObject({ status: 'resolved' });
  });

  it('a reporter may cancel their own open alert, but not someone else’s (404, as if missing) nor an acknowledged one', async () => {
    const mine = ((await post(api, sampleAlert(), auth(s.member))).body as Created).alert_id;
    const theirs = ((await post(api, sampleAlert(), auth(s.member2))).body as Created).alert_id;
    // Another user's alert is answered exactly like a missing one: no existence oracle.
    const cancelTheirs = await post(`${api}/${theirs}/cancel`, null, auth(s.member));
    const getTheirs = await get(`${api}/${theirs}`, auth(s.member));
    const capTheirs = await get(`${api}/${theirs}/cap`, auth(s.member));
    expect([cancelTheirs.status, getTheirs.status, capTheirs.status]).toEqual([404, 404, 404]);
    const missing = '1-0';
    for (const [theirsReply, missingReply] of [
      [cancelTheirs, await post(`${api}/${missing}/cancel`, null, auth(s.member))],
      [getTheirs, await get(`${api}/${missing}`, auth(s.member))],
      [capTheirs, await get(`${api}/${missing}/cap`, auth(s.member))],
    ] as const) {
      expect(missingReply.status).toBe(404);
      expect(JSON.stringify(theirsReply.body).replaceAll(theirs, missing)).toBe(JSON.stringify(missingReply.body));
    }
    expect((await get(`${api}/${theirs}`, auth(s.member2))).status).toBe(200);
    expect((await post(`${api}/${mine}/cancel`, null, auth(s.member))).status).toBe(200);
    const acked = ((await post(api, sampleAlert(), auth(s.member))).body as Created).alert_id;
    await post(`${api}/${acked}/ack`, null, auth(s.responder));
    expect((await post(`${api}/${acked}/cancel`, null, auth(s.member))).status).toBe(409);
    expect((await post(`${api}/${acked}/cancel`, null, auth(s.admin_))).status).toBe(200);
    expect((await get(`${api}/1-0`, auth(s.responder))).status).toBe(404);
    expect(((await get(`${api}/not-an-id`, auth(s.responder))).body as ErrBody).error.code).toBe('NABOOM_VALIDATION');
  });

  it('lists newest first with paging, filters, members see only their own, and replays from an id', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push(((await post(api, sampleAlert({ severity: 'medium' }), auth(s.member2))).body as Created).alert_id);
    const page1 = (await get(`${api}?severity=medium&limit=3`, auth(s.responder))).body as { alerts: { id: string }[]; next: string };
    expect(page1.alerts.map((a) => a.id)).toEqual(ids.slice(-3).reverse());
    const page2 = (await get(`${api}?severity=medium&limit=3&before=${page1.next}`, auth(s.responder))).body as { alerts: { id: string }[] };
    expect(page2.alerts.map((a) => a.id).slice(0, 2)).toEqual([ids[1], ids[0]]);
    const since = (await get(`${api}?since=${ids[1]}&severity=medium`, auth(s.responder))).body as { alerts: { id: string }[] };
    expect(since.alerts.map((a) => a.id)).toEqual(ids.slice(2));
    const mine = (await get(`${api}?limit=500`, auth(s.member2))).body as { alerts: { reporter: { username: string } }[] };
    expect(new Set(mine.alerts.map((a) => a.reporter.username))).toEqual(new Set(['max']));
    const open = (await get(`${api}?status=resolved`, auth(s.responder))).body as { alerts: { status: string }[] };
    expect(open.alerts.length).toBeGreaterThan(0);
    expect(open.alerts.every((a) => a.status === 'resolved')).toBe(true);
    expect((await get(`${api}?severity=../x`, auth(s.responder))).status).toBe(400);
  });

  it('serves the alert as OASIS CAP 1.2 with the severity mapping', async () => {
    const expected = { critical: 'Extreme', high: 'Severe', medium: 'Moderate', low: 'Minor' } as const;
    for (const [sev, cap] of Object.entries(expected)) {
      const id = ((await post(api, sampleAlert({ severity: sev, type: 'fire', description: 'Smoke <3rd floor> & "stairs"' }), auth(s.member))).body as Created).alert_id;
      const r = await get(`${api}/${id}/cap`, auth(s.responder));
      expect(r.status).toBe(200);
      expect(r.headers.get('content-type')).toMatch(/^application\/cap\+xml/);
      const xml = r.text;
      expect(xml).toMatch(/^<\?xml version="1.0" encoding="UTF-8"\?>\n<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2">/);
      // CAP 1.2 element order (alert, then info, then area) and required fields.
      const order = ['identifier', 'sender', 'sent', 'status', 'msgType', 'scope', 'info', 'category', 'event', 'urgency', 'severity', 'certainty', 'area', 'areaDesc', 'circle'];
      let at = -1;
      for (const el of order) {
        const i = xml.indexOf(`<${el}>`);
        expect(i, el).toBeGreaterThan(at);
        at = i;
      }
      expect(xml).toContain(`<identifier>naboom-${id}</identifier>`);
      expect(xml).toMatch(/<sent>\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d<\/sent>/);
      expect(xml).toContain(`<severity>${cap}</severity>`);
      expect(xml).toContain('<category>Fire</category>');
      expect(xml).toContain('<circle>-33.9249,18.4241 0.025</circle>');
      expect(xml).toContain('<description>Smoke &lt;3rd floor&gt; &amp; &quot;stairs&quot;</description>');
      expect(xml).toContain('<msgType>Alert</msgType>');
    }
  });

  it('health: /health/redis in the original shape, probing each role within its ACL; live, ready, metrics', async () => {
    const r = await get(`${s.url}/health/redis`);
    expect(r.status).toBe(200);
    const body = r.body as { overall_status: string; redis_acl_health: Record<string, { status: string; operations: string[]; response_time_ms: number; db_keys: number }>; timestamp: string };
    expect(body.overall_status).toBe('healthy');
    expect(Object.keys(body.redis_acl_health).sort()).toEqual(['app_user', 'monitoring_user', 'realtime_user', 'websocket_user']);
    expect(body.redis_acl_health['monitoring_user']?.operations).toEqual(['PING', 'INFO', 'DBSIZE']);
    expect(body.redis_acl_health['app_user']?.operations).toEqual(['PING', 'SET', 'GET', 'DEL']);
    expect(body.redis_acl_health['realtime_user']?.db_keys).toBeGreaterThan(0);
    for (const v of Object.values(s.redis.env)) if (v.length >= 32) expect(r.text).not.toContain(v);
    expect((await get(`${s.url}/health/live`)).status).toBe(200);
    expect((await get(`${s.url}/health/ready`)).body).toMatchObject({ status: 'ready' });
    const m = await get(`${s.url}/metrics`, { authorization: `Bearer ${s.redis.env['METRICS_TOKEN'] ?? ''}` });
    for (const name of ['naboom_alerts_raised_total{severity="critical"}', 'naboom_alert_ingest_seconds_bucket', 'naboom_live_delivery_seconds', 'naboom_live_clients', 'naboom_escalations_total', 'naboom_rate_limited_total', 'naboom_redis_noperm_total']) {
      expect(m.text).toContain(name);
    }
  });

  it('left ACL LOG empty and logged no password or token', async () => {
    expect(await s.admin.call('ACL', 'LOG')).toEqual([]);
    const logs = s.logs.join('');
    expect(logs).toMatch(/alert raised/);
    const secrets = [...Object.values(s.redis.env).filter((v) => v.length >= 32), s.member.token, s.member.password, s.responder.token, s.responder.password];
    for (const secret of secrets) expect(logs).not.toContain(secret);
  });
});
