/**
 * Sentinel and Cluster with every node and Sentinel TLS-only: Sentinels reached over TLS and replicating over
 * TLS (`tls-replication`), Cluster nodes gossiping over TLS (`tls-cluster`) and announcing their TLS ports in
 * the slot map. The API, the live feed, the queue and verify (its tls section on every node) work end to end,
 * and a kill -9 of the Sentinel master fails over with every connection still TLS.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TLSSocket } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { createCertificateAuthority } from '../../src/local/tls-certs.js';
import type { ClusterTopology, SentinelTopology } from '../../src/local/topologies.js';
import { waitFor } from '../../src/local/wait.js';
import { createLogger } from '../../src/log/logger.js';
import { connectAdmin, listNodes } from '../../src/redis/admin.js';
import { sentinelView } from '../../src/redis/sentinel.js';
import { startServer, type RunningServer } from '../../src/start/server.js';
import { runVerify } from '../../src/verify/run.js';
import { runCli } from '../helpers/cli.js';
import { post, sampleAlert, WsClient } from '../helpers/stack.js';
import { awaitFailover, startTestTlsCluster, startTestTlsSentinel, type TestTopology } from '../helpers/topology.js';

const logger = createLogger({ level: 'silent' });

async function endToEnd(server: RunningServer, token: string, responder: string): Promise<string> {
  const ws = new WsClient(server.url, { authorization: `Bearer ${responder}` });
  await ws.open();
  ws.subscribe();
  await ws.until((f) => f.some((x) => x.type === 'subscribed'));
  const r = await waitFor('an alert answered 201', async () => {
    const res = await post(`${server.url}/api/emergency/alerts`, sampleAlert(), { authorization: `Bearer ${token}` });
    return res.status === 201 ? res : undefined;
  }, { timeoutMs: 20_000, intervalMs: 200 });
  const id = (r.body as { alert_id: string }).alert_id;
  await ws.until((f) => f.some((x) => x.type === 'alert' && x.alert?.id === id), 15_000);
  ws.close();
  return id;
}

async function tlsVerify(t: TestTopology<unknown>, nodes: number): Promise<void> {
  const report = await runVerify({ config: t.config, keys: t.keys, logger });
  expect(report.checks.filter((c) => c.status === 'fail')).toEqual([]);
  const tls = report.checks.filter((c) => c.section === 'tls');
  expect(tls.filter((c) => c.status !== 'pass')).toEqual([]);
  expect(tls.filter((c) => c.name === 'no plaintext port open').length).toBe(nodes);
  expect(tls.filter((c) => c.name === 'certificate chain trusted and not expiring').length).toBe(nodes);
  expect(tls.filter((c) => c.name.endsWith("connection is TLS")).length).toBe(5);
}

async function startWithAccounts(t: TestTopology<unknown>): Promise<{ server: RunningServer; token: string; responder: string }> {
  const server = await startServer({ config: t.config, keys: t.keys, logger, port: 0, host: '127.0.0.1', dashboardDir: '/nonexistent' });
  await server.users.add('sam', 'member', 'member-password-1');
  await server.users.add('rey', 'responder', 'responder-password-1');
  return { server, token: await server.users.issueToken('sam'), responder: await server.users.issueToken('rey') };
}

describe('Sentinel over TLS only', () => {
  let t: TestTopology<SentinelTopology>;
  let s: Awaited<ReturnType<typeof startWithAccounts>>;
  beforeAll(async () => {
    t = await startTestTlsSentinel({ RATE_LIMIT_ALERTS_PER_USER: '100000' });
    s = await startWithAccounts(t);
  }, 60_000);
  afterAll(async () => {
    await s?.server.stop();
    await t?.stop();
  });

  it('the API, live feed, queue and verify work, with every node TLS-only', async () => {
    await endToEnd(s.server, s.token, s.responder);
    await tlsVerify(t, 2);
    const { master } = await sentinelView(t.config);
    const admin = await connectAdmin(t.config, master);
    expect(admin.stream).toBeInstanceOf(TLSSocket);
    expect(await admin.call('CONFIG', 'GET', 'tls-replication')).toEqual(['tls-replication', 'yes']);
    expect(await admin.info('keyspace')).toMatch(/^db2:keys=[1-9]/m);
    admin.disconnect();
    const diff = await runCli(['acl', 'diff', '--all-nodes'], { env: { NABOOM_ENV_FILE: t.envFile } });
    expect(diff.code, diff.stdout + diff.stderr).toBe(0);
  });

  it('names an untrusted Sentinel certificate (NABOOM_REDIS_TLS_UNTRUSTED), not "Connection is closed."', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'naboom-tls-sentinel-'));
    try {
      const other = createCertificateAuthority(join(dir, 'ca'), 'Some other CA').certFile;
      const config = loadConfig({ env: { REDIS_TLS_CA_FILE: other }, envFile: t.envFile });
      await expect(sentinelView(config)).rejects.toMatchObject({ code: 'NABOOM_REDIS_TLS_UNTRUSTED', message: expect.stringMatching(/^Sentinel 127\.0\.0\.1:\d+: the server's certificate is not trusted/) as unknown });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('fails over after kill -9 of the master, and alerts flow again over TLS', async () => {
    const { master } = await sentinelView(t.config);
    const victim = t.topo.nodes.find((n) => n.port === master.port);
    await victim?.kill();
    const after = await awaitFailover(t, master.port, Date.now());
    // As a supervisor would: restart the dead node as a replica of the new master (ALERT_MIN_REPLICAS=1
    // needs one), replicating over TLS.
    const index = t.topo.nodes.findIndex((n) => n === victim);
    if (victim) {
      t.topo.nodes[index] = await victim.restart();
      const rejoin = await connectAdmin(t.config, { host: '127.0.0.1', port: victim.port });
      await rejoin.call('REPLICAOF', after.master.host, String(after.master.port));
      rejoin.disconnect();
    }
    await endToEnd(s.server, s.token, s.responder);
    const admin = await connectAdmin(t.config, after.master);
    expect(admin.stream).toBeInstanceOf(TLSSocket);
    admin.disconnect();
  }, 90_000);
});

describe('Cluster over TLS only', () => {
  let t: TestTopology<ClusterTopology>;
  let s: Awaited<ReturnType<typeof startWithAccounts>>;
  beforeAll(async () => {
    t = await startTestTlsCluster();
    s = await startWithAccounts(t);
  }, 60_000);
  afterAll(async () => {
    await s?.server.stop();
    await t?.stop();
  });

  it('announces TLS ports in the slot map; the API, live feed, queue, verify and acl diff --all-nodes work', async () => {
    const admin = await connectAdmin(t.config, t.config.topology.kind === 'cluster' ? t.config.topology.nodes[0] : undefined);
    expect(await admin.call('CONFIG', 'GET', 'tls-cluster')).toEqual(['tls-cluster', 'yes']);
    const slots = (await admin.call('CLUSTER', 'SLOTS')) as [number, number, [string, number]][];
    const ports = new Set(t.topo.nodes.map((n) => n.port));
    expect(slots.every((range) => ports.has(Number(range[2][1])))).toBe(true);
    admin.disconnect();
    expect((await listNodes(t.config)).length).toBe(6);
    await endToEnd(s.server, s.token, s.responder);
    await tlsVerify(t, 6);
    const diff = await runCli(['acl', 'diff', '--all-nodes'], { env: { NABOOM_ENV_FILE: t.envFile } });
    expect(diff.code, diff.stdout + diff.stderr).toBe(0);
  });
});
