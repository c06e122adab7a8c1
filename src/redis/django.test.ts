import { describe, expect, it } from 'vitest';
import { generateEnv } from '../config/generate.js';
import { loadConfig } from '../config/load.js';
import { renderAclFile } from './acl/render.js';
import { desiredRules } from './acl/rules.js';
import { DJANGO_GRANTS, DJANGO_REFUSED, djangoCalls } from './django.js';
import { matchesPattern, type KeyLayout, type NamespaceOwner } from './keys.js';
import { APP_ROLES, FORBIDDEN_FOR_APP_ROLES, ROLE_NAMES, roleCommands, rolePatterns } from './roles.js';

const DJANGO = { django: true } as const;
const LAYOUTS: KeyLayout[] = ['standalone', 'cluster'];

/** The command name as an ACL grant names it: `script|load` for a subcommand, else the command. */
const grantName = (args: readonly string[]): string => {
  const cmd = (args[0] ?? '').toLowerCase();
  return cmd === 'script' ? `script|${(args[1] ?? '').toLowerCase()}` : cmd;
};

describe('Django ACL profile', () => {
  for (const layout of LAYOUTS) {
    it(`grants every command of the library table to the role it runs as, and only with the profile (${layout})`, () => {
      const missingWithout = new Set<string>();
      for (const call of djangoCalls()) {
        const withProfile = roleCommands(call.role, layout, DJANGO);
        const without = roleCommands(call.role, layout);
        for (const args of call.commands) {
          expect(withProfile, `${call.library} ${call.call}: ${args[0]}`).toContain(grantName(args));
          if (!without.includes(grantName(args))) missingWithout.add(`${call.role} ${grantName(args)}`);
        }
      }
      // Exactly the additions of DJANGO_GRANTS are what the table needs beyond Naboom's own grants.
      const added = APP_ROLES.flatMap((r) => DJANGO_GRANTS[r].flatMap((g) => g.commands.map((c) => `${r} ${c}`)));
      expect([...missingWithout].sort()).toEqual([...added].sort());
    });

    it(`adds only explicit commands, none that the negative matrix forbids (${layout})`, () => {
      for (const role of APP_ROLES) {
        const cmds = roleCommands(role, layout, DJANGO);
        expect(cmds.some((c) => c.startsWith('@'))).toBe(false);
        for (const bad of FORBIDDEN_FOR_APP_ROLES) expect(cmds.some((c) => c === bad || c.startsWith(`${bad}|`)), `${role} ${bad}`).toBe(false);
        for (const bad of ['psubscribe', 'script', 'script|flush', 'script|kill', 'flushdb', 'keys', 'scan']) expect(cmds, `${role} ${bad}`).not.toContain(bad);
      }
    });

    it(`keeps refused what must stay refused (${layout})`, () => {
      for (const r of DJANGO_REFUSED) {
        const cmds = roleCommands(r.role, layout, DJANGO);
        const p = rolePatterns(r.role, layout, DJANGO);
        const keyArg = r.args[1];
        const commandAllowed = cmds.includes(grantName(r.args));
        // A refusal holds either because the command is not granted or because its key is not writable.
        const keyWritable = keyArg !== undefined && p.keys.some((k) => matchesPattern(k, keyArg));
        expect(commandAllowed && (r.args[0] !== 'HSET' || keyWritable), `${r.call}`).toBe(false);
      }
    });
  }

  it('gives each role its Celery patterns only with the profile: app alone, unacked read-only', () => {
    const owners: NamespaceOwner[] = ['app', 'websocket', 'realtime'];
    for (const layout of LAYOUTS) {
      for (const role of owners) {
        const plain = rolePatterns(role, layout);
        const django = rolePatterns(role, layout, DJANGO);
        expect(plain.keys.concat(plain.readKeys, plain.channels).some((p) => p.startsWith('naboom:celery') || p === 'unacked')).toBe(false);
        const celery = django.keys.includes('naboom:celery:*') && django.channels.includes('naboom:celery:*') && django.readKeys.includes('unacked');
        expect(celery, role).toBe(role === 'app');
        expect(django.keys.includes('unacked')).toBe(false);
      }
    }
  });

  it('changes nothing without DJANGO_COMPAT, and DJANGO_COMPAT=false is the same as unset', () => {
    const env = generateEnv(6380).vars;
    const render = (extra: Record<string, string>): string =>
      renderAclFile(desiredRules(loadConfig({ env: { ...env, ...extra }, envFile: false, requireRoles: ROLE_NAMES })));
    const plain = render({});
    expect(render({ DJANGO_COMPAT: 'false' })).toBe(plain);
    expect(plain).not.toContain('naboom:celery');
    const django = render({ DJANGO_COMPAT: 'true' });
    expect(django).not.toBe(plain);
    // Only the three application users change; master, monitoring, replica and sentinel are untouched.
    const lines = (t: string): string[] => t.trimEnd().split('\n');
    const changed = lines(django).filter((l, i) => l !== lines(plain)[i]).map((l) => l.split(' ')[1]);
    expect(changed).toEqual(['app_user', 'websocket_user', 'realtime_user']);
  });

  it('init --django writes DJANGO_COMPAT=true', () => {
    const g = generateEnv(6380, { django: true });
    expect(g.text).toMatch(/^DJANGO_COMPAT=true$/m);
    expect(loadConfig({ env: g.vars, envFile: false }).settings.DJANGO_COMPAT).toBe(true);
    expect(generateEnv(6380).text).not.toContain('DJANGO_COMPAT');
  });
});
