/**
 * Test Redis servers: each test file starts its own provisioned redis-server (src/local/provisioned.ts) on a
 * free port with the ACL file our code generates, and stops it afterwards. Never the machine's Redis on 6379.
 */
import { startProvisionedRedis, type ProvisionedRedis } from '../../src/local/provisioned.js';

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

export async function startTestRedis(opts: TestRedisOptions = {}): Promise<TestRedis> {
  if (process.env['REDIS_PORT'] === '6379') delete process.env['REDIS_PORT'];
  return await startProvisionedRedis({ ...opts, env: { ...PUSH_OFF, ...opts.env }, appendonly: opts.appendonly ?? false, tmpPrefix: 'naboom-test-' });
}
