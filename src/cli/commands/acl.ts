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
      if (drifted > 0) {
        ctx.io.err(`${drifted} user(s) drifted; run \`naboom acl apply\`\n`);
        process.exitCode = 1;
      }
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
