/**
 * The desired ACL state, as data: one `UserRules` per role, computed from the role catalogue and the key
 * module. Rendering to a file, `ACL SETUSER` arguments and the drift comparison all start from here.
 */
import { createHash } from 'node:crypto';
import type { Config } from '../../config/load.js';
import { layoutOf, type KeyLayout } from '../keys.js';
import { NO_PROFILE, ROLE_NAMES, roleCommands, rolePatterns, roleSelectors, roleSpec, type RoleName, type RoleProfile } from '../roles.js';

export interface UserRules {
  readonly role: RoleName;
  readonly username: string;
  readonly enabled: boolean;
  /** Lower-case sha256 hex digests of the accepted passwords. */
  readonly passwordHashes: readonly string[];
  readonly keys: readonly string[];
  readonly readKeys: readonly string[];
  readonly channels: readonly string[];
  /** `['@all']` for the superuser, else explicit lower-case commands. */
  readonly commands: readonly string[];
  /** ACL selectors `(~key … +cmd …)`: commands granted on those keys only (sorted, de-duplicated). */
  readonly selectors: readonly SelectorRules[];
}

export interface SelectorRules {
  readonly keys: readonly string[];
  readonly commands: readonly string[];
}

/** sha256 lower-case hex, the form Redis stores and accepts after `#`. */
export const hashPassword = (plain: string): string => createHash('sha256').update(plain, 'utf8').digest('hex');

/** Roles whose users exist on every node (all of them: replicas and sentinels need their users too). */
export const PROVISIONED_ROLES: readonly RoleName[] = ROLE_NAMES;

/** The grant profile the configuration switches on (DJANGO_COMPAT). */
export const configProfile = (config: Config): RoleProfile => ({ django: config.settings.DJANGO_COMPAT });

/** Desired rules for one role, given its password hashes. */
export function userRules(role: RoleName, username: string, passwordHashes: readonly string[], layout: KeyLayout, profile: RoleProfile = NO_PROFILE): UserRules {
  const spec = roleSpec(role);
  const p = rolePatterns(role, layout, profile);
  return Object.freeze({
    role,
    username,
    enabled: true,
    passwordHashes: [...passwordHashes],
    keys: [...p.keys],
    readKeys: [...p.readKeys],
    channels: [...p.channels],
    commands: spec.superuser ? ['@all'] : roleCommands(role, layout, profile),
    selectors: roleSelectors(role, layout).map((sel) => ({ keys: [...sel.keys], commands: [...new Set(sel.commands)].sort() })),
  });
}

/**
 * Desired rules for every provisioned role from the configuration; roles without a password are skipped.
 * `layout` defaults to the configured topology's (a local cluster is provisioned with 'cluster').
 */
export function desiredRules(config: Config, layout: KeyLayout = layoutOf(config)): UserRules[] {
  const out: UserRules[] = [];
  for (const role of PROVISIONED_ROLES) {
    const cred = config.credentials[role];
    if (!cred.password) continue;
    out.push(userRules(role, cred.username, [hashPassword(cred.password.reveal())], layout, configProfile(config)));
  }
  return out;
}

/** One selector as a single rule token: `(~key … +cmd …)` (no channels: they stay with the root). */
export const selectorToken = (sel: SelectorRules): string => `(${[...sel.keys.map((k) => `~${k}`), ...sel.commands.map((c) => `+${c}`)].join(' ')})`;

/**
 * The rule tokens for one user, in a fixed order: resets first, then state, passwords, keys, channels,
 * commands, then `clearselectors` and the selectors (every user but the superuser, whose `+@all` makes
 * selectors moot), so applying the rules also removes a selector nobody asked for.
 */
export function ruleTokens(u: UserRules): string[] {
  const tokens = ['resetkeys', 'resetchannels', 'resetpass', u.enabled ? 'on' : 'off'];
  for (const h of u.passwordHashes) tokens.push(`#${h}`);
  for (const k of u.keys) tokens.push(`~${k}`);
  for (const k of u.readKeys) tokens.push(`%R~${k}`);
  for (const c of u.channels) tokens.push(`&${c}`);
  if (u.commands.includes('@all')) {
    tokens.push('+@all');
  } else {
    tokens.push('-@all');
    for (const c of u.commands) tokens.push(`+${c}`);
    tokens.push('clearselectors');
    for (const sel of u.selectors) tokens.push(selectorToken(sel));
  }
  return tokens;
}
