import { setTimeout as sleep } from 'node:timers/promises';
import type { Command } from 'commander';
import type { Redis } from 'ioredis';
import type { Config } from '../../config/load.js';
import { newPassword } from '../../config/generate.js';
import { persistSecret } from '../../config/persist.js';
import { NaboomError } from '../../errors/catalogue.js';
import { connectAdmin, listNodes, nodeName, type NodeRef } from '../../redis/admin.js';
import { sentinelView } from '../../redis/sentinel.js';
import { applyRules, diffServer } from '../../redis/acl/provision.js';
import { renderAclFile } from '../../redis/acl/render.js';
import { desiredRules } from '../../redis/acl/rules.js';
import { addNewPassword, planRotation, removeOldPassword } from '../../redis/acl/rotate.js';
import { isRoleName, ROLE_NAMES, type RoleName } from '../../redis/roles.js';
import { describeGroup, groupAclLog, parseAclLog, type AclLogClass, type AclLogGroup } from '../../verify/acl-log.js';
import { writeSecretFile } from './init.js';
import type { CommandContext } from '../context.js';

interface NodeOpts {
  allNodes?: boolean;
}

/** The nodes a command acts on: every node with --all-nodes, else the configured entry point. */
async function targetNodes(config: Config, opts: NodeOpts): Promise<NodeRef[]> {
  if (opts.allNodes) return await listNodes(config);
  if (config.topology.kind === 'cluster') {
    const first = config.topology.nodes[0];
    if (!first) throw new NaboomError('NABOOM_CONFIG_INVALID', 'REDIS_CLUSTER_NODES is empty');
    return [first];
  }
  if (config.topology.kind === 'standalone') return [{ host: config.topology.host, port: config.topology.port }];
  return [(await sentinelView(config)).master];
}

async function withAdmins<T>(config: Config, nodes: readonly NodeRef[], fn: (admins: { node: NodeRef; admin: Redis }[]) => Promise<T>): Promise<T> {
  const admins: { node: NodeRef; admin: Redis }[] = [];
  try {
    for (const node of nodes) admins.push({ node, admin: await connectAdmin(config, node) });
    return await fn(admins);
  } finally {
    for (const a of admins) a.admin.disconnect();
  }
}

const ALL_ROLES: readonly RoleName[] = ROLE_NAMES;

const CLASS_LABEL: Record<AclLogClass, string> = { 'grant-missing': 'FAIL grant-missing', foreign: 'WARN foreign', 'verify-probe': 'ok   verify-probe' };

/** `acl log` output, one line per entry group: when, where, classification, who/what/from where/how often. */
function renderAclLog(groups: readonly AclLogGroup[], nodes: readonly string[], showNode: boolean): string {
  const lines: string[] = [];
  for (const node of nodes) {
    const mine = groups.filter((g) => g.node === node);
    if (mine.length === 0) lines.push(`${showNode ? `${node}  ` : ''}ACL LOG is empty`);
    for (const g of mine) lines.push(`${g.lastSeen}  ${showNode ? `${node}  ` : ''}${CLASS_LABEL[g.class].padEnd(18)}  ${describeGroup(g)}`);
  }
  return lines.length ? `${lines.join('\n')}\n` : '';
}

const ACL_LOG_HELP = [
  '',
  'Each line is one group of denials with the same cause, user, command or key and client host:',
  "  FAIL grant-missing  one of Naboom's own connections (client name naboom:<role>:…) was refused: a grant",
  '                      the code needs is missing; add it in src/redis/roles.ts, then `naboom acl apply --all-nodes`',
  '  WARN foreign        a client outside Naboom (redis-cli, another program) was refused: a security signal;',
  '                      find the host, and rotate the password (`naboom acl rotate ROLE`) if it was not you',
  "  ok   verify-probe   a refusal that `naboom verify`'s negative checks provoke on purpose",
  'Exit codes: 0 nothing to look at (empty, or only verify probes) · 1 a FAIL or WARN group · 2 error.',
  'Redis keeps at most 128 entries per node (acllog-max-len) and merges repeats within 60 s into one entry.',
  '--reset runs ACL LOG RESET as the master role after printing; denials that arrive in between are lost.',
  '',
].join('\n');

export function registerAcl(program: Command, ctx: CommandContext): void {
  const acl = program.command('acl').description('render, apply, compare and rotate the Redis ACL users');

  acl
    .command('render')
    .description('print the ACL file for the current environment (passwords only as #<sha256>)')
    .option('--out <file>', 'write to this file (mode 0600) instead of stdout')
    .option('--force', 'overwrite --out if it exists', false)
    .action((opts: { out?: string; force: boolean }) => {
      const config = ctx.config({ roles: ALL_ROLES, command: 'acl render' });
      const text = renderAclFile(desiredRules(config));
      if (opts.out) {
        writeSecretFile(opts.out, text, opts.force);
        ctx.io.err(`wrote ${opts.out}\n`);
      } else {
        ctx.io.out(text);
      }
    });

  acl
    .command('apply')
    .description('provision the users on the live server(s) with ACL SETUSER (+ ACL SAVE when an aclfile is used); idempotent')
    .option('--all-nodes', 'every master, replica and cluster node (ACL changes do not replicate)', false)
    .option('--prune', 'also delete users that are not in the desired rules', false)
    .action(async (opts: NodeOpts & { prune: boolean }) => {
      const config = ctx.config({ roles: ALL_ROLES, command: 'acl apply' });
      const rules = desiredRules(config);
      const nodes = await targetNodes(config, opts);
      await withAdmins(config, nodes, async (admins) => {
        for (const { node, admin } of admins) {
          const r = await applyRules(admin, rules, { prune: opts.prune });
          const parts = [
            r.changed.length ? `updated ${r.changed.join(', ')}` : 'no change needed',
            r.removed.length ? `removed ${r.removed.join(', ')}` : '',
            r.saved ? 'ACL SAVE done' : '',
          ].filter(Boolean);
          ctx.io.out(`${nodeName(node)}: ${parts.join('; ')}\n`);
        }
      });
    });

  acl
    .command('diff')
    .description('compare the live ACL with the desired rules; exit 0 in sync, 1 drift, 2 error')
    .option('--all-nodes', 'compare every node', false)
    .action(async (opts: NodeOpts) => {
      const config = ctx.config({ roles: ALL_ROLES, command: 'acl diff' });
      const rules = desiredRules(config);
      const nodes = await targetNodes(config, opts);
      let drifted = 0;
      await withAdmins(config, nodes, async (admins) => {
        for (const { node, admin } of admins) {
          const drift = await diffServer(admin, rules);
          for (const d of drift) {
            if (d.problems.length === 0) {
              ctx.io.out(`${nodeName(node)}  ${d.username}: in sync\n`);
            } else {
              drifted += 1;
              ctx.io.out(`${nodeName(node)}  ${d.username}: DRIFT\n${d.problems.map((p) => `    - ${p}\n`).join('')}`);
            }
          }
        }
      });
      if (drifted > 0) throw new NaboomError('NABOOM_ACL_DRIFT', `${drifted} user(s) drifted`);
    });

  acl
    .command('log')
    .description('show ACL LOG denials grouped and classified by who caused them (Naboom, verify, anyone else); exit 0 nothing to look at, 1 something to look at, 2 error')
    .option('--json', 'print one JSON document: {groups:[{class, username, role, clientName, reason, context, what, address, count, lastSeen, node}], summary, reset}', false)
    .option('--reset', 'clear the log (ACL LOG RESET as the master role) after printing it', false)
    .option('--all-nodes', 'every master, replica and cluster node (each keeps its own log)', false)
    .addHelpText('after', ACL_LOG_HELP)
    .action(async (opts: NodeOpts & { json: boolean; reset: boolean }) => {
      const config = ctx.config({ roles: ['master'], command: 'acl log' });
      const nodes = await targetNodes(config, opts);
      await withAdmins(config, nodes, async (admins) => {
        const now = Date.now();
        const groups: AclLogGroup[] = [];
        for (const { node, admin } of admins) groups.push(...groupAclLog(parseAclLog(await admin.call('ACL', 'LOG', '512')), now, nodeName(node)));
        const summary: Record<AclLogClass, number> = { 'grant-missing': 0, foreign: 0, 'verify-probe': 0 };
        for (const g of groups) summary[g.class] += g.count;
        if (opts.reset) for (const { admin } of admins) await admin.call('ACL', 'LOG', 'RESET');
        if (opts.json) {
          ctx.io.out(`${JSON.stringify({ groups, summary, reset: opts.reset }, null, 2)}\n`);
        } else {
          ctx.io.out(renderAclLog(groups, nodes.map(nodeName), nodes.length > 1 || opts.allNodes === true));
          ctx.io.out(`${summary['grant-missing']} denial(s) of Naboom's own connections, ${summary.foreign} of other clients, ${summary['verify-probe']} expected verify probe(s)\n`);
        }
        if (!opts.json && summary['grant-missing'] > 0) ctx.io.err('hint: a Naboom process lacks a grant: add it in src/redis/roles.ts if it is legitimate, then `naboom acl apply --all-nodes`\n');
        if (!opts.json && summary.foreign > 0) ctx.io.err('hint: a client outside Naboom was refused: find the host; if it was not you, rotate the password with `naboom acl rotate ROLE --all-nodes`\n');
        if (opts.reset) ctx.io.err(`ACL LOG reset on ${nodes.map(nodeName).join(', ')}\n`);
        if (summary['grant-missing'] > 0 || summary.foreign > 0) process.exitCode = 1;
      });
    });

  acl
    .command('rotate')
    .description('zero-downtime password rotation: add a new password, write it to .env / the secret file, remove the old one after the grace period')
    .argument('<role>', `one of ${ALL_ROLES.join(', ')}`)
    .option('--grace <seconds>', 'how long both passwords work (running processes re-read the secret within a few seconds)', '60')
    .option('--all-nodes', 'rotate on every node (required on replicated/cluster deployments)', false)
    .action(async (role: string, opts: NodeOpts & { grace: string }) => {
      if (!isRoleName(role)) throw new NaboomError('NABOOM_USAGE', `Unknown role "${role}"; expected one of ${ALL_ROLES.join(', ')}`);
      const grace = Number(opts.grace);
      if (!Number.isFinite(grace) || grace < 0 || grace > 86_400) throw new NaboomError('NABOOM_USAGE', '--grace must be 0–86400 seconds');
      const config = ctx.config({ roles: ['master', role], command: 'acl rotate' });
      const cred = config.credentials[role];
      const old = cred.password;
      if (!old) throw new NaboomError('NABOOM_CONFIG_MISSING_SECRET', `Missing or empty: ${cred.passwordVariable}`);
      const fresh = newPassword();
      const plan = planRotation(cred.username, old.reveal(), fresh);
      const nodes = await targetNodes(config, opts);
      await withAdmins(config, nodes, async (admins) => {
        const list = admins.map((a) => a.admin);
        await addNewPassword(list, plan);
        ctx.io.out(`${cred.username}: new password added on ${nodes.map(nodeName).join(', ')} (old one still accepted)\n`);
        let where: string;
        try {
          where = persistSecret(cred.source, fresh);
        } catch (err) {
          // Nothing lost: both passwords work; take the new one back so the old stays the only one.
          await removeOldPassword(list, { ...plan, oldHash: plan.newHash, newHash: plan.oldHash });
          throw err;
        }
        ctx.io.out(`${cred.username}: new password written to ${where}\n`);
        const step = Math.max(1, Math.min(10, Math.ceil(grace / 6)));
        for (let left = grace; left > 0; left -= step) {
          ctx.io.err(`grace period: old password removed in ${left}s (processes pick up the new one on their own; SIGHUP forces it)\n`);
          await sleep(Math.min(step, left) * 1000);
        }
        await removeOldPassword(list, plan);
        ctx.io.out(`${cred.username}: old password removed; rotation complete\n`);
      });
    });
}
