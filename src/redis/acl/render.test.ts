import { describe, expect, it } from 'vitest';
import { generateEnv } from '../../config/generate.js';
import { loadConfig } from '../../config/load.js';
import { layoutOf } from '../keys.js';
import { FORBIDDEN_FOR_APP_ROLES, ROLE_NAMES, roleCommands } from '../roles.js';
import { renderAclFile } from './render.js';
import { desiredRules, hashPassword } from './rules.js';

const env = generateEnv(6380).vars;

describe('ACL generator', () => {
  for (const topology of ['standalone', 'cluster'] as const) {
    const config = loadConfig({
      env: { ...env, ...(topology === 'cluster' ? { REDIS_CLUSTER_NODES: '127.0.0.1:7000' } : {}) },
      envFile: false,
      requireRoles: ROLE_NAMES,
    });
    const text = renderAclFile(desiredRules(config));
    const lines = text.trimEnd().split('\n');

    it(`has one line per role and no comments (${topology})`, () => {
      expect(lines).toHaveLength(ROLE_NAMES.length);
      for (const l of lines) expect(l).toMatch(/^user \S+ resetkeys resetchannels resetpass on #[0-9a-f]{64} /);
      expect(text).not.toMatch(/^\s*#/m);
    });

    it(`never contains a plaintext password, only lowercase sha256 (${topology})`, () => {
      for (const role of ROLE_NAMES) {
        const pw = config.credentials[role].password?.reveal() ?? '';
        expect(pw.length).toBeGreaterThanOrEqual(32);
        expect(text).not.toContain(pw);
        expect(text).toContain(`#${hashPassword(pw)}`);
      }
      expect(text).not.toMatch(/nopass/);
      expect(text).not.toMatch(/#[0-9a-f]*[A-F][0-9a-fA-F]*\s/);
    });

    it(`grants app roles explicit commands only, never a forbidden one (${topology})`, () => {
      for (const role of ['app', 'websocket', 'realtime', 'monitoring'] as const) {
        const line = lines.find((l) => l.startsWith(`user ${config.credentials[role].username} `)) ?? '';
        expect(line).toContain(' -@all ');
        expect(line.split(' ').filter((t) => t.startsWith('+@'))).toEqual([]);
        for (const bad of FORBIDDEN_FOR_APP_ROLES) {
          expect(roleCommands(role, layoutOf(config)).some((c) => c === bad || c.startsWith(`${bad}|`)), `${role} ${bad}`).toBe(false);
        }
      }
    });

    it(`gives the default user a password and all rights (${topology})`, () => {
      expect(lines[0]).toMatch(/^user default .* #[0-9a-f]{64} ~\* &\* \+@all$/);
    });
  }

  it('grants the monitoring role reads only (no CONFIG GET: it reveals masterauth)', () => {
    const cmds = roleCommands('monitoring', 'standalone');
    expect(cmds).toEqual(['client|setname', 'dbsize', 'info', 'latency|latest', 'ping', 'select', 'slowlog|get', 'slowlog|len']);
  });

  it('grants the library needs: INFO for ioredis/BullMQ, EVAL/EVALSHA for BullMQ', () => {
    for (const role of ['app', 'websocket', 'realtime', 'monitoring'] as const) expect(roleCommands(role, 'standalone')).toContain('info');
    expect(roleCommands('app', 'standalone')).toEqual(expect.arrayContaining(['eval', 'evalsha', 'bzpopmin', 'xread']));
    expect(roleCommands('app', 'cluster')).toEqual(expect.arrayContaining(['cluster|slots', 'cluster|info', 'readonly', 'readwrite']));
    expect(roleCommands('app', 'standalone')).not.toContain('cluster|slots');
  });

  it('refuses two roles with the same user name', () => {
    const config = loadConfig({ env: { ...env, REDIS_APP_USER: 'shared', REDIS_WEBSOCKET_USER: 'shared' }, envFile: false, requireRoles: ROLE_NAMES });
    expect(() => renderAclFile(desiredRules(config))).toThrow(/share the ACL user name "shared"/);
  });
});
