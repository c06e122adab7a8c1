/**
 * What verify's checks and the round trips of the building blocks (cache, channels, queue) share: the
 * context a check group runs with and the results it returns. Types only, so those folders depend on verify's
 * vocabulary and not on its code.
 */
import type { Redis } from 'ioredis';
import type { Config } from '../config/load.js';
import type { Logger } from '../log/logger.js';
import type { RedisClient } from '../redis/connections.js';
import type { KeySpace } from '../redis/keys.js';
import type { ClientRole } from '../redis/roles.js';
import type { AclLogGroup } from './acl-log.js';

export type CheckStatus = 'pass' | 'fail' | 'skip' | 'warn';

export interface CheckResult {
  /** Section letter or name: `auth`, `job`, `deny`, `passwords`, `drift`, `acl-log`, `roundtrip`, … */
  readonly section: string;
  readonly name: string;
  readonly role?: string;
  readonly node?: string;
  readonly status: CheckStatus;
  readonly detail: string;
  /** What to do about a failure. */
  readonly hint?: string;
  /** Section `acl-log` (and `nodes`): the ACL LOG entry groups behind this check. */
  readonly aclLog?: readonly AclLogGroup[];
}

export interface VerifyReport {
  readonly ok: boolean;
  readonly summary: Record<CheckStatus, number>;
  readonly checks: readonly CheckResult[];
  readonly durationMs: number;
}

/** What a check group (the ACL checks, a round trip) runs with: the role connections verify opened. */
export interface VerifyContext {
  readonly config: Config;
  readonly keys: KeySpace;
  readonly logger: Logger;
  readonly clients: ReadonlyMap<ClientRole, RedisClient>;
  readonly admin: Redis;
}
