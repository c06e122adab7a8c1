/**
 * The `naboom` command line. Each command lives in `commands/<name>.ts`; this file wires them, sets the
 * exit codes (0 success, 1 a check failed or drift found, 2 error) and prints errors as code + hint.
 */
import { Command, CommanderError } from 'commander';
import { registerAcl } from './commands/acl.js';
import { registerDev } from './commands/dev.js';
import { registerDjango } from './commands/django.js';
import { registerInit } from './commands/init.js';
import { registerQueue } from './commands/queue.js';
import { registerRedis } from './commands/redis.js';
import { registerServe } from './commands/serve.js';
import { registerUsers } from './commands/users.js';
import { registerVerify } from './commands/verify.js';
import { registerWorker } from './commands/worker.js';
import { createContext, explainError, processIo, reportError, type CommandContext, type Io } from './context.js';

export const EXIT = { ok: 0, failed: 1, error: 2 } as const;

/** Builds the program (exported for tests and for `--help` generation). */
export function buildProgram(io: Io = processIo): Command {
  return build(io).program;
}

function build(io: Io): { program: Command; ctx: CommandContext } {
  const program = new Command();
  program
    .name('naboom')
    .description('Realtime emergency-alert backend in which every Redis connection is its own least-privilege ACL user')
    .version('0.1.0')
    .option('--env-file <path>', 'read variables from this file (default: $NABOOM_ENV_FILE or ./.env)')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.out(s), writeErr: (s) => io.err(s) })
    .addHelpText(
      'after',
      '\nExit codes: 0 success · 1 a check failed (verify) or drift found (acl diff) · 2 error (configuration, connection, usage)\n',
    );
  const ctx = createContext(program, io);
  registerInit(program, ctx);
  registerAcl(program, ctx);
  registerRedis(program, ctx);
  registerVerify(program, ctx);
  registerServe(program, ctx);
  registerUsers(program, ctx);
  registerDev(program, ctx);
  registerWorker(program, ctx);
  registerQueue(program, ctx);
  registerDjango(program, ctx);
  for (const c of program.commands) {
    c.exitOverride();
    for (const sub of c.commands) sub.exitOverride();
  }
  return { program, ctx };
}

/** Runs the CLI and returns the exit code. */
export async function main(argv: readonly string[], io: Io = processIo): Promise<number> {
  const { program, ctx } = build(io);
  try {
    await program.parseAsync([...argv]);
    return typeof process.exitCode === 'number' ? process.exitCode : EXIT.ok;
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help') return EXIT.ok;
      return EXIT.error;
    }
    return reportError(io, await explainError(err, ctx));
  }
}
