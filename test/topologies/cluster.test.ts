/**
 * Cluster: everything in DB 0, isolation by key pattern only; all alert keys share the {panic} slot and the
 * queue uses {naboom:queue}; every node carries the same users; a kill -9 of the master that owns the alert
 * slot, under a steady stream of retried alerts, loses nothing acknowledged.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/log/logger.js';
import type { ClusterTopology } from '../../src/local/topologies.js';
import { connectAdmin, listNodes } from '../../src/redis/admin.js';
import { RoleClients } from '../../src/redis/connections.js';
import { diffServer } from '../../src/redis/acl/provision.js';
import { desiredRules } from '../../src/redis/acl/rules.js';
import { keySlot } from '../../src/redis/slot.js';
import { startServer, type RunningServer } from '../../src/start/server.js';
import { channelRoundTrips } from '../../src/channels/verify.js';
import { cacheRoundTrips } from '../../src/cache/verify.js';
import { runVerify } from '../../src/verify/run.js';
import { runCli } from '../helpers/cli.js';
import { describeAttempts, describeRefusals, startRetryingLoad, summarizeAttempts } from '../helpers/load.js';
import { post, sampleAlert, WsClient } from '../helpers/stack.js';
import { startTestCluster, type TestTopology } from '../helpers/topology.js';

const logger = createLogger({ level: 'silent' });
/** Loopback and a loaded test machine: how much later than the server's deadline an answer may arrive. */
const TRANSPORT_MARGIN_MS = 500;

async function slotOwner(t: TestTopology<ClusterTopology>, slot: number): Promise<number> {
  const admin = await connectAdmin(t.config, { host: '127.0.0.1', port: t.topo.nodes[0]?.port ?? 0 });
  try {
    const slots = (await admin.call('CLUSTER', 'SLOTS')) as [number, number, [string, number]][];
    const range = slots.find(([from, to]) => slot >= from && slot <= to);
    return Number(range?.[2][1]);
  } finally {
    admin.disconnect();
  }
}

describe('Cluster topology', () => {
  let t: TestTopology<ClusterTopology>;
  let server: RunningServer;
  let token = '';
  let responder = '';
  beforeAll(async () => {
    t = await startTestCluster({ RATE_LIMIT_ALERTS_PER_USER: '100000', RATE_LIMIT_ALERTS_PER_IP: '100000' });
    server = await startServer({ config: t.config, keys: t.keys, logger, port: 0, host: '127.0.0.1', dashboardDir: '/nonexistent' });
    await server.users.add('cat', 'member', 'member-password-1');
    await server.users.add('ray', 'responder', 'responder-password-1');
    token = await server.users.issueToken('cat');
    responder = await server.users.issueToken('ray');
  }, 90_000);
  afterAll(async () => {
    await server?.stop();
    await t.stop();
  });

  it('naboom verify passes on every node, with the cache and channel-layer round trips', async () => {
    const report = await runVerify({ config: t.config, keys: t.keys, logger, extra: [cacheRoundTrips, channelRoundTrips] });
    expect(report.checks.filter((c) => c.status === 'fail')).toEqual([]);
    const nodes = new Set(report.checks.filter((c) => c.section === 'nodes').map((c) => c.node));
    expect(nodes.size).toBe(6);
    expect(report.checks.filter((c) => c.section === 'roundtrip' && c.status === 'pass').length).toBeGreaterThanOrEqual(6);
    expect(report.checks.some((c) => c.name.includes('a promoted replica accepts it') && c.status === 'pass')).toBe(true);
  });

  it('provisions the same users on all six nodes; acl diff --all-nodes is clean', async () => {
    const nodes = await listNodes(t.config);
    expect(nodes).toHaveLength(6);
    for (const n of nodes) {
      const admin = await connectAdmin(t.config, n);
      expect((await diffServer(admin, desiredRules(t.config))).filter((d) => d.problems.length > 0), `${n.port}`).toEqual([]);
      admin.disconnect();
    }
    const diff = await runCli(['acl', 'diff', '--all-nodes'], { env: { NABOOM_ENV_FILE: t.envFile } });
    expect(diff.code, diff.stderr).toBe(0);
    expect(diff.stdout.match(/in sync/g)?.length).toBe(42);
  });

  it('raises, lists and acts on alerts with every alert key in the {panic} slot', async () => {
    const r = await post(`${server.url}/api/emergency/alerts`, sampleAlert({ severity: 'critical' }), { authorization: `Bearer ${token}` });
    expect(r.status).toBe(201);
    expect((r.body as { stream: string }).stream).toBe('{panic}:alerts:critical');
    const id = (r.body as { alert_id: string }).alert_id;
    const ack = await post(`${server.url}/api/emergency/alerts/${id}/ack`, null, { authorization: `Bearer ${responder}` });
    expect(ack.status).toBe(200);
    const owner = await slotOwner(t, keySlot('{panic}'));
    const admin = await connectAdmin(t.config, { host: '127.0.0.1', port: owner });
    expect(await admin.exists('{panic}:feed', `{panic}:alert:${id}`, `{panic}:emergency:alert:${id}`)).toBe(3);
    admin.disconnect();
  });

  it('claims, threads and related alerts stay in the {panic} slot (linking on, as configured by default)', async () => {
    const at = { type: 'fire', location: { lat: -29.85, lon: 31.02 } };
    const first = await post(`${server.url}/api/emergency/alerts`, at, { authorization: `Bearer ${token}` });
    const second = await post(`${server.url}/api/emergency/alerts`, at, { authorization: `Bearer ${token}` });
    expect([first.status, second.status]).toEqual([201, 201]);
    const a = (first.body as { alert_id: string }).alert_id;
    const b = second.body as { alert_id: string; alert: { related?: string[] } };
    expect(b.alert.related).toEqual([a]);
    const claim = await post(`${server.url}/api/emergency/alerts/${a}/claim`, null, { authorization: `Bearer ${responder}` });
    expect(claim.status).toBe(200);
    expect((claim.body as { related?: string[]; assignee?: { username: string } }).related).toEqual([b.alert_id]);
    const msg = await post(`${server.url}/api/emergency/alerts/${a}/messages`, { text: 'on my way' }, { authorization: `Bearer ${responder}` });
    expect(msg.status).toBe(201);
    const owner = await slotOwner(t, keySlot('{panic}'));
    const admin = await connectAdmin(t.config, { host: '127.0.0.1', port: owner });
    expect(await admin.exists(`{panic}:thread:${a}`, '{panic}:recent')).toBe(2);
    admin.disconnect();
  });

  it('counts a refused command for its role on a Cluster client too (NOPERM metric)', async () => {
    const noperms: string[] = [];
    const clients = new RoleClients(t.config, logger, { onNoPerm: (r) => noperms.push(r) });
    try {
      const app = clients.get('app');
      expect(await app.set('naboom:cache:probe-noperm', '1', 'EX', 10)).toBe('OK');
      await expect(app.get('{panic}:feed')).rejects.toThrow(/NOPERM/);
      expect(noperms).toEqual(['app']);
    } finally {
      await clients.close();
    }
  });

  it('survives kill -9 of the master owning the alert slot: every 201 in the stream once', async () => {
    const ws = new WsClient(server.url, { authorization: `Bearer ${responder}` });
    await ws.open();
    ws.subscribe();
    await ws.until((f) => f.some((x) => x.type === 'live'));
    const load = startRetryingLoad(server.url, token, 'c-');
    await new Promise((r) => setTimeout(r, 1500));
    const owner = await slotOwner(t, keySlot('{panic}'));
    const victimIndex = t.topo.nodes.findIndex((n) => n.port === owner);
    const victim = t.topo.nodes[victimIndex];
    const downAt = Date.now();
    load.faultInjected();
    await victim?.kill();
    let promotedMs = 0;
    while (Date.now() - downAt < 30_000) {
      const now = await slotOwner(t, keySlot('{panic}')).catch(() => owner);
      if (now !== owner) {
        promotedMs = Date.now() - downAt;
        break;
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    // The supervisor restarts the dead node; it rejoins as a replica of the promoted one.
    if (victim) t.topo.nodes[victimIndex] = await victim.restart();
    const writesWork = await load.recovered(30_000, 1000);
    const stats = await load.stop();
    const acked = load.acked;
    // A client can tell an outage from a bug: no 500, no hang past the deadline, every refusal says when to retry.
    const answers = summarizeAttempts(stats.attempts, t.config.settings.REQUEST_DEADLINE_MS + TRANSPORT_MARGIN_MS);
    expect(answers.errors, describeAttempts(answers)).toEqual([]);
    expect(answers.slow, describeAttempts(answers)).toEqual([]);
    expect(answers.refusalsWithoutRetryAfter, describeAttempts(answers)).toEqual([]);
    expect(promotedMs).toBeGreaterThan(0);
    expect(writesWork, describeRefusals(stats.refusals)).toBe(true);
    const newOwner = await slotOwner(t, keySlot('{panic}'));
    const admin = await connectAdmin(t.config, { host: '127.0.0.1', port: newOwner });
    const entries = await admin.xrange('{panic}:alerts:high', '-', '+');
    admin.disconnect();
    const ids = new Set(entries.map(([id]) => id));
    const descriptions = entries.map(([, f]) => f[f.indexOf('description') + 1]).filter((d) => d?.startsWith('c-'));
    const found = [...acked].filter((id) => ids.has(id)).length;
    expect(found).toBe(acked.size);
    expect(new Set(descriptions).size).toBe(descriptions.length);
    ws.close();
    process.stdout.write(
      `[cluster failover] alerts sent ${stats.sent}, acknowledged ${acked.size}, found ${found} of them in the stream (none twice), client retries ${stats.retries}, replica promoted ${promotedMs} ms after the kill, writes refused for ${stats.outageMs} ms; refusals: ${describeRefusals(stats.refusals)}; answers: ${describeAttempts(answers)}\n`,
    );
  }, 90_000);
});
