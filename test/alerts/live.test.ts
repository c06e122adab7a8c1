/** The live feed over WebSocket and SSE: receipt, updates, replay without gap or duplicate, slow clients. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auth, post, sampleAlert, SseClient, startStack, WsClient, type Stack } from '../helpers/stack.js';

interface Created {
  alert_id: string;
}

describe('live feed', () => {
  let s: Stack;
  let api: string;
  beforeAll(async () => {
    s = await startStack({ env: { RATE_LIMIT_ALERTS_PER_USER: '10000', RATE_LIMIT_ALERTS_PER_IP: '10000' } });
    api = `${s.url}/api/emergency/alerts`;
  });
  afterAll(async () => {
    await s.stop();
  });

  const raise = async (over: Record<string, unknown> = {}, who = s.member): Promise<string> => {
    const r = await post(api, sampleAlert(over), auth(who));
    expect(r.status).toBe(201);
    return (r.body as Created).alert_id;
  };

  it('raise → live on WebSocket and SSE → ack → resolve, as alert and alert.updated frames', async () => {
    const ws = new WsClient(s.url, auth(s.responder));
    await ws.open();
    ws.subscribe({ severities: ['critical', 'high'] });
    await ws.until((f) => f.some((x) => x.type === 'live'));
    const sse = new SseClient(`${s.url}/api/emergency/stream?severities=critical,high`, auth(s.responder));
    await sse.open();
    expect(sse.status).toBe(200);
    await sse.until((e) => e.some((x) => x.event === 'live'));

    const id = await raise({ severity: 'critical' });
    await ws.until((f) => f.some((x) => x.type === 'alert' && x.id === id));
    await sse.until((e) => e.some((x) => x.event === 'alert' && x.id === id));
    await post(`${api}/${id}/ack`, null, auth(s.responder));
    await post(`${api}/${id}/resolve`, null, auth(s.responder));
    await ws.until((f) => f.filter((x) => x.type === 'alert.updated' && x.alert?.id === id).length === 2);
    await sse.until((e) => e.filter((x) => x.event === 'alert.updated' && x.data.alert?.id === id).length === 2);
    const updates = ws.alerts().filter((x) => x.alert?.id === id).map((x) => x.alert?.status);
    expect(updates).toEqual(['open', 'acknowledged', 'resolved']);
    // A severity the client did not subscribe to is not sent.
    const low = await raise({ severity: 'low' });
    const marker = await raise({ severity: 'high' });
    await ws.until((f) => f.some((x) => x.id === marker));
    expect(ws.frames.some((x) => x.id === low)).toBe(false);
    ws.close();
    await sse.close();
  });

  it('a reconnecting client receives every missed event in order, with no duplicate, then continues live', async () => {
    const first = new WsClient(s.url, auth(s.responder));
    await first.open();
    first.subscribe();
    // Live only once the server says so: an alert raised before the subscribe frame arrived is not this client's.
    await first.until((f) => f.some((x) => x.type === 'live'));
    const a = await raise();
    await first.until((f) => f.some((x) => x.id === a));
    const lastSeen = first.alerts().at(-1)?.id ?? '';
    first.close();

    const missed: string[] = [];
    for (let i = 0; i < 25; i++) missed.push(await raise({ severity: i % 2 ? 'critical' : 'medium' }));
    await post(`${api}/${missed[0]}/ack`, null, auth(s.responder));

    const again = new WsClient(s.url, auth(s.responder));
    await again.open();
    again.subscribe({ since: lastSeen });
    const during: string[] = [];
    // Alerts raised while the replay runs must arrive exactly once too.
    const racing = (async () => {
      for (let i = 0; i < 10; i++) during.push(await raise());
    })();
    await racing;
    await again.until((f) => during.every((id) => f.some((x) => x.type === 'alert' && x.id === id)), 8000);
    const ids = again.alerts().map((x) => x.id ?? '');
    expect(new Set(ids).size).toBe(ids.length);
    const sorted = [...ids].sort((x, y) => (BigInt(x.split('-')[0] ?? 0) === BigInt(y.split('-')[0] ?? 0) ? Number(x.split('-')[1]) - Number(y.split('-')[1]) : BigInt(x.split('-')[0] ?? 0) < BigInt(y.split('-')[0] ?? 0) ? -1 : 1));
    expect(ids).toEqual(sorted);
    for (const id of [...missed, ...during]) expect(ids).toContain(id);
    expect(ids).not.toContain(lastSeen);
    expect(again.frames.map((f) => f.type)).toEqual(expect.arrayContaining(['subscribed', 'replay.start', 'replay.end', 'live']));
    again.close();
  });

  it('SSE resumes from Last-Event-ID', async () => {
    const one = await raise();
    const two = await raise();
    const three = await raise();
    const sse = new SseClient(`${s.url}/api/emergency/stream`, { ...auth(s.responder), 'last-event-id': one });
    await sse.open();
    await sse.until((e) => e.some((x) => x.id === three));
    expect(sse.alertIds().filter((id) => [one, two, three].includes(id))).toEqual([two, three]);
    await sse.close();
  });

  it('members see only their own alerts live; unauthenticated live connections get 401', async () => {
    const ws = new WsClient(s.url, auth(s.member2));
    await ws.open();
    ws.subscribe();
    await ws.until((f) => f.some((x) => x.type === 'live'));
    const other = await raise({}, s.member);
    const own = await raise({}, s.member2);
    await ws.until((f) => f.some((x) => x.id === own));
    expect(ws.frames.some((x) => x.id === other)).toBe(false);
    ws.close();

    const anon = new WsClient(s.url, {});
    await expect(anon.open()).rejects.toThrow(/HTTP 401/);
    const res = await fetch(`${s.url}/api/emergency/stream`);
    expect(res.status).toBe(401);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('NABOOM_UNAUTHENTICATED');
  });

  it('rejects malformed subscribe frames with an error frame and keeps the socket open', async () => {
    const ws = new WsClient(s.url, auth(s.responder));
    await ws.open();
    ws.ws.send('not json');
    ws.subscribe({ severities: ['../x'] });
    await ws.until((f) => f.filter((x) => x.type === 'error').length === 2);
    expect(ws.frames.map((f) => f['code'])).toEqual(['NABOOM_BAD_REQUEST', 'NABOOM_VALIDATION']);
    ws.subscribe();
    await ws.until((f) => f.some((x) => x.type === 'subscribed'));
    ws.close();
  });
});
