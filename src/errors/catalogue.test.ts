import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ERRORS, NaboomError, type ErrorCode } from './catalogue.js';

describe('error catalogue', () => {
  it('is documented in the README: every code, with its HTTP status, and no code that does not exist', () => {
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    const section = readme.slice(readme.indexOf('## Error codes'), readme.indexOf('## Development'));
    const documented = new Map<string, string>();
    for (const m of section.matchAll(/^\| `(NABOOM_[A-Z_]+)` \| ([^|]+) \|/gm)) documented.set(m[1] ?? '', (m[2] ?? '').trim());
    expect([...documented.keys()].sort()).toEqual(Object.keys(ERRORS).sort());
    for (const [code, def] of Object.entries(ERRORS)) {
      const status = documented.get(code);
      if (status !== '–') expect(Number(status), code).toBe(def.status);
    }
  });

  it('carries code, status, hint and exit code', () => {
    const e = new NaboomError('NABOOM_RATE_LIMITED');
    expect([e.code, e.status, e.message, e.exitCode]).toEqual(['NABOOM_RATE_LIMITED', 429, 'Too many requests', 2]);
    expect(new NaboomError('NABOOM_VERIFY_FAILED').exitCode).toBe(1);
    const codes = Object.keys(ERRORS) as ErrorCode[];
    for (const c of codes) expect(c).toMatch(/^NABOOM_[A-Z_]+$/);
  });
});
