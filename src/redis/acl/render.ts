/**
 * Renders `users.acl`. Pure. Redis 7.0 refuses comment lines in an ACL file, so the file carries none;
 * passwords appear only as `#<sha256>`.
 */
import type { UserRules } from './rules.js';
import { ruleTokens } from './rules.js';

/** One `user …` line per role, ending with a newline. */
export function renderAclFile(users: readonly UserRules[]): string {
  const names = new Set<string>();
  for (const u of users) {
    if (names.has(u.username)) throw new Error(`Two roles share the ACL user name "${u.username}"`);
    names.add(u.username);
  }
  return users.map((u) => `user ${u.username} ${ruleTokens(u).join(' ')}`).join('\n') + '\n';
}
