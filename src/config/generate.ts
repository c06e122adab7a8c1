/**
 * Fresh secrets for `naboom init`: one random password per role (32 bytes from the CSPRNG, base64url: 43
 * characters), a SECRET_KEY of 48 random bytes and a METRICS_TOKEN (so `/metrics` is never open on a stack
 * set up this way), and a VAPID key pair for Web Push.
 */
import { randomBytes } from 'node:crypto';
import webpush from 'web-push';
import { ROLE_ACCOUNTS, ROLE_NAMES } from './roles.js';

export const newPassword = (): string => randomBytes(32).toString('base64url');
export const newSecretKey = (): string => randomBytes(48).toString('base64url');

export interface GeneratedEnv {
  /** The .env text. */
  readonly text: string;
  /** The variables in it (for rendering the ACL file without re-reading). */
  readonly vars: Readonly<Record<string, string>>;
}

export interface GenerateOptions {
  /** Add the Django ACL profile (`naboom init --django`). */
  readonly django?: boolean;
}

/** The .env written by `naboom init`, pointing the app at the local Redis that `naboom redis` starts. */
export function generateEnv(localRedisPort = 6380, options: GenerateOptions = {}): GeneratedEnv {
  const vars: Record<string, string> = {};
  const lines = [
    '# Written by `naboom init`. Keep this file secret (mode 0600); never commit it.',
    '# Each role authenticates to Redis as its own ACL user (see README "Redis roles").',
    '',
  ];
  for (const role of ROLE_NAMES) {
    const spec = ROLE_ACCOUNTS[role];
    vars[spec.userEnv] = spec.defaultUser;
    vars[spec.passwordEnv] = newPassword();
    lines.push(`# ${role}: ${spec.purpose}`);
    lines.push(`${spec.userEnv}=${vars[spec.userEnv]}`);
    lines.push(`${spec.passwordEnv}=${vars[spec.passwordEnv]}`);
    lines.push('');
  }
  vars['SECRET_KEY'] = newSecretKey();
  vars['METRICS_TOKEN'] = newPassword();
  const vapid = webpush.generateVAPIDKeys();
  vars['VAPID_PUBLIC_KEY'] = vapid.publicKey;
  vars['VAPID_PRIVATE_KEY'] = vapid.privateKey;
  vars['VAPID_SUBJECT'] = 'mailto:ops@example.org';
  vars['REDIS_HOST'] = '127.0.0.1';
  vars['REDIS_PORT'] = String(localRedisPort);
  vars['NABOOM_REDIS_PORT'] = String(localRedisPort);
  lines.push(
    '# Channel-layer encryption key. To rotate, prepend a new key: SECRET_KEY=new,old (the first encrypts).',
    `SECRET_KEY=${vars['SECRET_KEY']}`,
    '',
    '# Bearer token for GET /metrics (Prometheus: authorization.credentials). Without it /metrics is open.',
    `METRICS_TOKEN=${vars['METRICS_TOKEN']}`,
    '',
    '# Web Push to responders (VAPID, RFC 8292). The private key signs every push; rotating the pair makes every',
    '# browser subscribe again (README "Push notifications for responders"). Set VAPID_SUBJECT to your contact.',
    `VAPID_PUBLIC_KEY=${vars['VAPID_PUBLIC_KEY']}`,
    `VAPID_PRIVATE_KEY=${vars['VAPID_PRIVATE_KEY']}`,
    `VAPID_SUBJECT=${vars['VAPID_SUBJECT']}`,
    '',
    '# The local Redis started by `naboom redis` / `naboom dev` (6380, so a system Redis on 6379 is never touched).',
    `REDIS_HOST=${vars['REDIS_HOST']}`,
    `REDIS_PORT=${vars['REDIS_PORT']}`,
    `NABOOM_REDIS_PORT=${vars['NABOOM_REDIS_PORT']}`,
    '',
  );
  if (options.django) {
    vars['DJANGO_COMPAT'] = 'true';
    lines.push(
      '# The original Django services share this Redis: the ACL adds their grants (`naboom django settings`).',
      `DJANGO_COMPAT=${vars['DJANGO_COMPAT']}`,
      '',
    );
  }
  return { text: lines.join('\n'), vars };
}
