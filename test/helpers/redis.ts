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

export async function startTestRedis(opts: TestRedisOptions = {}): Promise<TestRedis> {
  if (process.env['REDIS_PORT'] === '6379') delete process.env['REDIS_PORT'];
  return await startProvisionedRedis({ ...opts, appendonly: opts.appendonly ?? false, tmpPrefix: 'naboom-test-' });
}
