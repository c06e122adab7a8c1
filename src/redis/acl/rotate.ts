/**
 * Zero-downtime password rotation for one role: the new password is added next to the old one on every
 * node, written to the role's secret source, and the old one is removed only after a grace period.
 * Connected clients stay authenticated throughout (Redis never re-checks a live connection's password);
 * processes re-read the secret (file watch or SIGHUP) and use the new one for every new connection.
 */
import type { Redis } from 'ioredis';
import { hashPassword } from './rules.js';

export interface RotationStep {
  (message: string): void;
}

export interface RotationPlan {
  readonly username: string;
  readonly oldHash: string;
  readonly newHash: string;
}

export function planRotation(username: string, oldPassword: string, newPassword: string): RotationPlan {
  return { username, oldHash: hashPassword(oldPassword), newHash: hashPassword(newPassword) };
}

async function persistAcl(admin: Redis): Promise<void> {
  const reply = (await admin.call('CONFIG', 'GET', 'aclfile')) as string[];
  if (reply[1]) await admin.call('ACL', 'SAVE');
}

/** Phase 1: both passwords are accepted on every node. */
export async function addNewPassword(admins: readonly Redis[], plan: RotationPlan): Promise<void> {
  for (const a of admins) {
    await a.call('ACL', 'SETUSER', plan.username, `#${plan.newHash}`);
    await persistAcl(a);
  }
}

/** Phase 2: only the new password is accepted. */
export async function removeOldPassword(admins: readonly Redis[], plan: RotationPlan): Promise<void> {
  if (plan.oldHash === plan.newHash) return;
  for (const a of admins) {
    await a.call('ACL', 'SETUSER', plan.username, `!${plan.oldHash}`);
    await persistAcl(a);
  }
}
