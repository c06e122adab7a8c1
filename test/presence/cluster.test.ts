/**
 * Presence on Redis Cluster: every presence key carries `{presence}` and the server puts them in one slot, so
 * each presence script (three keys) runs on one node; the realtime role does it through its selector with the
 * Cluster-layout ACL on every node, and another role is still refused.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ClusterTopology } from '../../src/local/topologies.js';
import { createLogger } from '../../src/log/logger.js';
import { PresenceStore } from '../../src/presence/store.js';
import { connectAdmin } from '../../src/redis/admin.js';
import { RoleClients } from '../../src/redis/connections.js';
import { startTestCluster, type TestTopology } from '../helpers/topology.js';

describe('presence: Cluster', () => {
  let t: TestTopology<ClusterTopology>;
  let clients: RoleClients;
  beforeAll(async () => {
    t = await startTestCluster();
    clients = new RoleClients(t.config, createLogger({ level: 'silent' }));
  }, 120_000);
  afterAll(async () => {
    await clients?.close();
    await t?.stop();
  });

  it('all presence keys hash to one slot on the server, and the scripts run there under the realtime ACL', { timeout: 60_000 }, async () => {
    const p = t.keys.presence;
    const admin = await connectAdmin(t.config, { host: '127.0.0.1', port: t.topo.nodes[0]?.port ?? 0 });
    try {
      const slots = await Promise.all([p.geo, p.seen, p.info].map(async (k) => Number(await admin.call('CLUSTER', 'KEYSLOT', k))));
      expect(new Set(slots).size).toBe(1);
      expect(slots[0]).toBe(Number(await admin.call('CLUSTER', 'KEYSLOT', '{presence}')));
    } finally {
      admin.disconnect();
    }
    const store = new PresenceStore(clients.get('realtime'), t.keys, { RESPONDER_STALE_S: 300 });
    await store.update('rita', { available: true, location: { lat: -33.92, lon: 18.42 } });
    await store.update('sam', { available: true, location: { lat: -33.95, lon: 18.42 } });
    const near = await store.nearest({ lat: -33.92, lon: 18.42, radiusKm: 10, limit: 5, availableOnly: true });
    expect(near.map((r) => r.username)).toEqual(['rita', 'sam']);
    expect((await store.list()).map((r) => r.username).sort()).toEqual(['rita', 'sam']);
    expect(await store.remove('sam')).toBe(true);
    expect(await store.positionOf('sam')).toBeNull();
    await expect(clients.get('app').call('GEOADD', p.geo, '18.4', '-33.9', 'x')).rejects.toThrow(/NOPERM/);
  });
});
