/**
 * Test Redis servers: each test file starts its own provisioned redis-server (src/local/provisioned.ts) on a
 * free port with the ACL file our code generates, and stops it afterwards. Never the machine's Redis on 6379.
 */
import { UserStore } from '../../src/auth/users.js';
import { startProvisionedRedis, type ProvisionedRedis } from '../../src/local/provisioned.js';
import { createLogger } from '../../src/log/logger.js';
import { RoleClients } from '../../src/redis/connections.js';

export type TestRedis = ProvisionedRedis;

export interface TestRedisOptions {
  /** Extra variables written into the env file. */
  readonly env?: Record<string, string>;
  /** Replace the generated ACL file. */
  readonly aclFileContent?: (generated: string) => string;
  readonly appendonly?: boolean;
  /** A TLS-only server with local certificates (see `startProvisionedRedis`). */
  readonly tls?: { readonly authClients?: 'optional' | 'yes'; readonly clientCertificate?: boolean };
}

/**
 * Web Push is off unless a test passes a VAPID pair in `env` (`generateEnv().vars` has one): with it every
 * raised alert also gets a `push-fanout` job and the worker an accounts connection, which tests of other
 * subsystems do not expect in their job lists and connection names.
 */
const PUSH_OFF = { VAPID_PUBLIC_KEY: '', VAPID_PRIVATE_KEY: '', VAPID_SUBJECT: '' };

/**
 * Related-alert linking is off unless a test sets RELATED_RADIUS_M: tests of other subsystems raise many
 * alerts at one spot (`sampleAlert`) and count the feed entries and frames exactly; with linking on, each
 * of those alerts would also update up to ten older ones (test/alerts/related.test.ts turns it on).
 */
const RELATED_OFF = { RELATED_RADIUS_M: '0' };

/**
 * The push services tests send to: the local push service (test/push/mock-push-service.ts, on 127.0.0.1) and
 * the example host the validation tests register; PUSH_SERVICE_HOSTS' default lists only the browsers' real
 * push services.
 */
const PUSH_HOSTS = { PUSH_SERVICE_HOSTS: '127.0.0.1,[::1],localhost,push.example.org' };

export async function startTestRedis(opts: TestRedisOptions = {}): Promise<TestRedis> {
  if (process.env['REDIS_PORT'] === '6379') delete process.env['REDIS_PORT'];
  return await startProvisionedRedis({ ...opts, env: { ...PUSH_OFF, ...RELATED_OFF, ...PUSH_HOSTS, ...opts.env }, appendonly: opts.appendonly ?? false, tmpPrefix: 'naboom-test-' });
}

/** Adds the member `mo` and the responder `rae` as a serve process would find them, and returns an API token each. */
export async function addMemberAndResponder(t: TestRedis): Promise<{ member: string; responder: string }> {
  const clients = new RoleClients(t.config, createLogger({ level: 'silent' }));
  try {
    const users = new UserStore(clients.get('app'), t.keys);
    await users.add('mo', 'member', 'member-password-1');
    await users.add('rae', 'responder', 'responder-password-1');
    return { member: await users.issueToken('mo'), responder: await users.issueToken('rae') };
  } finally {
    await clients.close();
  }
}
