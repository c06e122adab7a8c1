import { createInterface } from 'node:readline';
import type { Command } from 'commander';
import { USER_ROLES, type UserRole } from '../../auth/principal.js';
import { UserStore } from '../../auth/users.js';
import { NaboomError } from '../../errors/catalogue.js';
import { RoleClients } from '../../redis/connections.js';
import { DATABASES } from '../../redis/databases.js';
import { PresenceStore } from '../../presence/store.js';
import type { CommandContext } from '../context.js';

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
}

/** Prompts twice without echo (TTY only). */
async function prompt(question: string): Promise<string> {
  if (!process.stdin.isTTY) throw new NaboomError('NABOOM_USAGE', 'No terminal to prompt on: pass --password-stdin and pipe the password');
  const rl = createInterface({ input: process.stdin, output: process.stderr, terminal: true });
  const out = rl as unknown as { _writeToOutput: (s: string) => void; output: NodeJS.WriteStream };
  let muted = false;
  out._writeToOutput = (s: string) => {
    if (!muted) out.output.write(s);
  };
  const ask = (q: string): Promise<string> =>
    new Promise((resolve) => {
      muted = false;
      rl.question(q, (a) => {
        process.stderr.write('\n');
        resolve(a);
      });
      muted = true;
    });
  try {
    const first = await ask(question);
    const second = await ask('again: ');
    if (first !== second) throw new NaboomError('NABOOM_USAGE', 'The passwords did not match');
    return first;
  } finally {
    rl.close();
  }
}

export function registerUsers(program: Command, ctx: CommandContext): void {
  const users = program.command('users').description('manage accounts (stored on the app role under naboom:auth:*, passwords hashed with scrypt)');
  const withStore = async <T>(fn: (s: UserStore) => Promise<T>): Promise<T> => {
    const config = ctx.config({ roles: ['app'], command: 'users' });
    const clients = new RoleClients(config, ctx.logger(config));
    try {
      return await fn(new UserStore(clients.get('app', 'command', DATABASES.accounts), ctx.keys(config)));
    } finally {
      await clients.close();
    }
  };

  /**
   * A removed account, or one demoted to member, loses its responder position at once (README "Responder
   * presence and privacy"): realtime role, the presence selector.
   */
  const forgetPresence = async (name: string): Promise<boolean> => {
    const config = ctx.config({ roles: ['realtime'], command: 'users' });
    const clients = new RoleClients(config, ctx.logger(config));
    try {
      return await new PresenceStore(clients.get('realtime'), ctx.keys(config), config.settings).remove(name);
    } finally {
      await clients.close();
    }
  };

  users
    .command('add')
    .description('create an account')
    .argument('<name>', 'username: lower-case letters, digits, ".", "_", "-"')
    .requiredOption('--role <role>', `one of ${USER_ROLES.join(', ')}`)
    .option('--password-stdin', 'read the password from standard input instead of prompting', false)
    .action(async (name: string, opts: { role: string; passwordStdin: boolean }) => {
      if (!(USER_ROLES as readonly string[]).includes(opts.role)) throw new NaboomError('NABOOM_USAGE', `--role must be one of ${USER_ROLES.join(', ')}`);
      const password = opts.passwordStdin ? await readStdin() : await prompt(`password for ${name}: `);
      const user = await withStore((s) => s.add(name, opts.role as UserRole, password));
      ctx.io.out(`added ${user.username} (${user.role}, id ${user.id})\n`);
    });

  users
    .command('list')
    .description('list accounts')
    .option('--json', 'one JSON document', false)
    .action(async (opts: { json: boolean }) => {
      const list = await withStore((s) => s.list());
      if (opts.json) ctx.io.out(`${JSON.stringify(list)}\n`);
      else for (const u of list) ctx.io.out(`${u.username.padEnd(24)} ${u.role.padEnd(10)} ${u.id}  created ${u.createdAt}\n`);
    });

  users
    .command('remove')
    .description('delete an account and revoke its API tokens')
    .argument('<name>')
    .action(async (name: string) => {
      await withStore((s) => s.remove(name));
      const hadPosition = await forgetPresence(name);
      ctx.io.out(`removed ${name}${hadPosition ? ' (and their responder position)' : ''}\n`);
    });

  users
    .command('token')
    .description('issue a new API token for an account (printed once; only its hash is stored), or with --revoke revoke all of its tokens')
    .argument('<name>')
    .option('--revoke', 'revoke every API token of the account instead (its live feeds close within seconds)', false)
    .action(async (name: string, opts: { revoke: boolean }) => {
      if (opts.revoke) {
        const n = await withStore((s) => s.revokeTokens(name));
        ctx.io.out(`revoked ${n} token${n === 1 ? '' : 's'} of ${name}\n`);
        return;
      }
      const token = await withStore((s) => s.issueToken(name));
      ctx.io.out(`${token}\n`);
    });

  users
    .command('role')
    .description("change an account's role (its live feeds close within seconds and reconnect with the new role)")
    .argument('<name>')
    .argument('<role>', `one of ${USER_ROLES.join(', ')}`)
    .action(async (name: string, role: string) => {
      if (!(USER_ROLES as readonly string[]).includes(role)) throw new NaboomError('NABOOM_USAGE', `The role must be one of ${USER_ROLES.join(', ')}`);
      const user = await withStore((s) => s.setRole(name, role as UserRole));
      const hadPosition = user.role === 'member' ? await forgetPresence(name) : false;
      ctx.io.out(`${user.username} is now ${user.role}${hadPosition ? ' (their responder position was deleted)' : ''}\n`);
    });
}
