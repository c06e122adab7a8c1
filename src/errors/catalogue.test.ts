import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ERRORS, NaboomError, type ErrorCode, type ErrorDefinition } from './catalogue.js';

/** Every code ever released. A code leaves the catalogue never: retire it (`retired: true`) instead. */
const RELEASED = [
  'NABOOM_CONFIG_INVALID', 'NABOOM_CONFIG_MISSING_SECRET', 'NABOOM_CONFIG_SECRET_FILE', 'NABOOM_CONFIG_TOPOLOGY_CONFLICT',
  'NABOOM_INIT_EXISTS', 'NABOOM_USAGE', 'NABOOM_REDIS_UNAVAILABLE', 'NABOOM_REDIS_AUTH', 'NABOOM_REDIS_NOPERM',
  'NABOOM_REDIS_CLUSTER_ACL', 'NABOOM_REDIS_SERVER_MISSING', 'NABOOM_REDIS_START_FAILED', 'NABOOM_ACL_APPLY_FAILED',
  'NABOOM_ACL_DRIFT', 'NABOOM_ROTATE_FAILED', 'NABOOM_VERIFY_FAILED', 'NABOOM_BAD_REQUEST', 'NABOOM_VALIDATION',
  'NABOOM_UNAUTHENTICATED', 'NABOOM_BAD_CREDENTIALS', 'NABOOM_FORBIDDEN', 'NABOOM_FORBIDDEN_ORIGIN', 'NABOOM_NOT_FOUND',
  'NABOOM_INVALID_TRANSITION', 'NABOOM_CONFLICT', 'NABOOM_REQUEST_TIMEOUT', 'NABOOM_IDEMPOTENCY_MISMATCH',
  'NABOOM_PAYLOAD_TOO_LARGE', 'NABOOM_HEADERS_TOO_LARGE', 'NABOOM_UNSUPPORTED_MEDIA_TYPE', 'NABOOM_RATE_LIMITED',
  'NABOOM_NOT_REPLICATED', 'NABOOM_UNAVAILABLE', 'NABOOM_INTERNAL', 'NABOOM_CHANNEL_FULL', 'NABOOM_CHANNEL_NAME',
  'NABOOM_JOB_INVALID', 'NABOOM_USER_EXISTS', 'NABOOM_USER_NOT_FOUND', 'NABOOM_SHUTTING_DOWN', 'NABOOM_SLOW_CONSUMER',
];

const entries = Object.entries<ErrorDefinition>(ERRORS);
const isRetired = (d: ErrorDefinition): boolean => d.retired === true;

/** The source of every non-test TypeScript file under src/ except the catalogue itself. */
function sources(): string {
  const root = fileURLToPath(new URL('..', import.meta.url));
  const catalogue = fileURLToPath(new URL('./catalogue.ts', import.meta.url));
  const files = readdirSync(root, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts') && join(root, f) !== catalogue);
  return files.map((f) => readFileSync(join(root, f), 'utf8')).join('\n');
}

describe('error catalogue', () => {
  it('is documented in the README: every code, with its HTTP status, and no code that does not exist', () => {
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    const section = readme.slice(readme.indexOf('## Error codes'), readme.indexOf('## Development'));
    const documented = new Map<string, string>();
    const meaning = new Map<string, string>();
    for (const m of section.matchAll(/^\| `(NABOOM_[A-Z_]+)` \| ([^|]+) \| ([^|]+) \|/gm)) {
      documented.set(m[1] ?? '', (m[2] ?? '').trim());
      meaning.set(m[1] ?? '', (m[3] ?? '').trim());
    }
    expect([...documented.keys()].sort()).toEqual(Object.keys(ERRORS).sort());
    for (const [code, def] of entries) {
      const status = documented.get(code);
      if (status !== '–') expect(Number(status), code).toBe(def.status);
      // A retired code stays in the table, marked, so nobody gives it a new meaning.
      expect(meaning.get(code)?.startsWith('retired'), code).toBe(isRetired(def));
    }
  });

  it('never drops a released code: a code is retired, not removed or renamed', () => {
    expect(RELEASED.filter((c) => !(c in ERRORS))).toEqual([]);
  });

  it('every code in use is thrown somewhere in src/, and no retired code is', () => {
    const src = sources();
    const named = (code: string): boolean => new RegExp(`\\b${code}\\b`).test(src);
    expect(entries.filter(([c, d]) => !isRetired(d) && !named(c)).map(([c]) => c), 'codes nothing throws: throw them or retire them').toEqual([]);
    expect(entries.filter(([c, d]) => isRetired(d) && named(c)).map(([c]) => c), 'retired codes still named in src/').toEqual([]);
  });

  it('carries code, status, hint and exit code', () => {
    const e = new NaboomError('NABOOM_RATE_LIMITED');
    expect([e.code, e.status, e.message, e.exitCode]).toEqual(['NABOOM_RATE_LIMITED', 429, 'Too many requests', 2]);
    expect(new NaboomError('NABOOM_VERIFY_FAILED').exitCode).toBe(1);
    expect(new NaboomError('NABOOM_ACL_DRIFT').exitCode).toBe(1);
    const codes = Object.keys(ERRORS) as ErrorCode[];
    for (const c of codes) expect(c).toMatch(/^NABOOM_[A-Z_]+$/);
  });
});
