/**
 * Cluster nodes started with the ACL rendered for the standalone layout (no `cluster|slots`, `panic:*` instead
 * of `{panic}:*`): the CLI names the cause and the fix instead of ioredis' "Failed to refresh slots cache".
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderAclFile } from '../../src/redis/acl/render.js';
import { desiredRules } from '../../src/redis/acl/rules.js';
import { createLogger } from '../../src/log/logger.js';
import { runVerify } from '../../src/verify/run.js';
import type { ClusterTopology } from '../../src/local/topologies.js';
import { runCli } from '../helpers/cli.js';
import { startTestCluster, type TestTopology } from '../helpers/topology.js';

describe('Cluster with a standalone ACL', () => {
  let c: TestTopology<ClusterTopology>;
  beforeAll(async () => {
    c = await startTestCluster({}, { aclFileContent: (config) => renderAclFile(desiredRules(config, 'standalone')) });
  }, 120_000);
  afterAll(async () => {
    await c.stop();
  });

  it('users add and verify say the nodes carry the standalone ACL and how to fix it; after the fix users add works', async () => {
    const env = { NABOOM_ENV_FILE: c.envFile };
    const add = (name: string) => runCli(['users', 'add', name, '--role', 'member', '--password-stdin'], { env, stdin: `${name}-Passw0rd-1234` });
    const refused = await add('bob');
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/^error NABOOM_REDIS_CLUSTER_ACL: The Cluster nodes refuse CLUSTER SLOTS to app_user: their ACL was rendered for the standalone layout/m);
    expect(refused.stderr).toMatch(/^ {2}hint: Render the ACL for the Cluster layout .*REDIS_CLUSTER_NODES.*`naboom acl apply --all-nodes`/m);
    expect(refused.stderr).not.toContain(c.env['REDIS_APP_PASSWORD']);
    const report = await runVerify({ config: c.config, keys: c.keys, logger: createLogger({ level: 'silent' }) });
    const auth = report.checks.find((k) => k.section === 'auth' && k.role === 'app');
    expect(auth).toMatchObject({ status: 'fail', detail: expect.stringMatching(/refuse CLUSTER SLOTS to app_user/), hint: expect.stringMatching(/acl apply --all-nodes/) });

    // Each node keeps its own ACL LOG: the refusals are there, as denials of Naboom's own connections.
    const log = await runCli(['acl', 'log', '--all-nodes'], { env });
    expect(log.code, log.stderr).toBe(1);
    expect(log.stdout).toMatch(/^\S+Z {2}127\.0\.0\.1:\d+ {2}FAIL grant-missing\s+naboom:app:\S+ \(role app, user app_user\) from 127\.0\.0\.1 was refused CLUSTER SLOTS \(\d+×\): a grant is missing$/m);

    const apply = await runCli(['acl', 'apply', '--all-nodes'], { env });
    expect(apply.code, apply.stderr).toBe(0);
    const added = await add('bob');
    expect(added.code, added.stderr).toBe(0);
    expect(added.stdout).toMatch(/^added bob \(member, id /);
  }, 120_000);
});
