/** `naboom init --django && naboom django settings` on a fresh directory, as a user runs them. */
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readEnvFile } from '../../src/config/load.js';
import { runCli } from '../helpers/cli.js';

describe('naboom init --django, naboom django settings', () => {
  const dir = mkdtempSync(join(tmpdir(), 'naboom-django-cli-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('writes the profile into .env and users.acl, then a settings module without a secret', async () => {
    const init = await runCli(['init', '--django', '--dir', dir, '--redis-port', '6391']);
    expect(init.code, init.stderr).toBe(0);
    const env = readEnvFile(join(dir, '.env')) ?? {};
    expect(env['DJANGO_COMPAT']).toBe('true');
    const acl = readFileSync(join(dir, 'users.acl'), 'utf8');
    expect(acl).toMatch(/^user app_user .* ~naboom:celery:\* %R~unacked &naboom:celery:\* .*\+brpop /m);
    expect(acl).toMatch(/^user websocket_user .*\+zpopmin/m);

    const out = join(dir, 'naboom_redis.py');
    const gen = await runCli(['--env-file', join(dir, '.env'), 'django', 'settings', '--out', out]);
    expect(gen.code, gen.stderr).toBe(0);
    expect(gen.stderr).not.toMatch(/warning/);
    const text = readFileSync(out, 'utf8');
    expect(text).toContain('"prefix": "naboom:channels:"');
    expect(text).toContain('_REDIS_PORT = int(_env("REDIS_PORT", "6391"))');
    for (const [k, v] of Object.entries(env)) if (/PASSWORD|SECRET_KEY|TOKEN/.test(k)) expect(text, k).not.toContain(v);
    expect(statSync(out).isFile()).toBe(true);
  }, 40_000);

  it('warns on stderr when the ACL has no Django profile, and prints the module on stdout', async () => {
    const plain = mkdtempSync(join(dir, 'plain-'));
    expect((await runCli(['init', '--dir', plain])).code).toBe(0);
    const gen = await runCli(['--env-file', join(plain, '.env'), 'django', 'settings']);
    expect(gen.code).toBe(0);
    expect(gen.stderr).toMatch(/DJANGO_COMPAT is not set/);
    expect(gen.stdout).toMatch(/^"""Redis settings for the original Django services/);
  }, 40_000);
});
