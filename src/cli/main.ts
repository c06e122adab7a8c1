/**
 * The `naboom` command line. Each command lives in `commands/<name>.ts`; this file wires them, sets the
 * exit codes (0 success, 1 a check failed or drift found, 2 error) and prints errors as code + hint.
 */
import { Command, CommanderError } from 'commander';
import { releaseYoungGeneration } from '../start/young-generation.js';
import { createContext, explainError, processIo, reportError, type CommandContext, type Io } from './context.js';

type Register = (program: Command, ctx: CommandContext) => void;

/**
 * Every command, in the order `--help` lists them, and how to load it. A command's module (and what it imports)
 * is loaded only when that command runs, or when the whole program is needed (`--help`, no or an unknown
 * command): `naboom serve` does not load the ACL, Django, verify, local redis-server or worker code.
 */
const COMMANDS = {
  init: async () => (await import('./commands/init.js')).registerInit,
  acl: async () => (await import('./commands/acl.js')).registerAcl,
  redis: async () => (await import('./commands/redis.js')).registerRedis,
  verify: async () => (await import('./commands/verify.js')).registerVerify,
  serve: async () => (await import('./commands/serve.js')).registerServe,
  users: async () => (await import('./commands/users.js')).registerUsers,
  dev: async () => (await import('./commands/dev.js')).registerDev,
  worker: async () => (await import('./commands/worker.js')).registerWorker,
  queue: async () => (await import('./commands/queue.js')).registerQueue,
  django: async () => (await import('./commands/django.js')).registerDjango,
} satisfies Record<string, () => Promise<Register>>;
type CommandName = keyof typeof COMMANDS;
const isCommandName = (s: string): s is CommandName => Object.hasOwn(COMMANDS, s);

/** Global options that take a value (the next word is not a command). */
const VALUE_OPTIONS = new Set(['--env-file']);
const HELP_OR_VERSION = new Set(['-h', '--help', '-V', '--version']);

/** The command `argv` (as process.argv: node, script, …) runs, if it names one; undefined for help or an unknown word. */
export function commandOf(argv: readonly string[]): CommandName | undefined {
  for (let i = 2; i < argv.length; i++) {
    const a = argv[i] ?? '';
    if (a === '--') return undefined;
    if (a.startsWith('-')) {
      // The program's own help or version before any command: build the whole program, as it prints.
      if (HELP_OR_VERSION.has(a)) return undefined;
      if (VALUE_OPTIONS.has(a)) i += 1;
      continue;
    }
    return isCommandName(a) ? a : undefined;
  }
  return undefined;
}

export const EXIT = { ok: 0, failed: 1, error: 2 } as const;

/** Builds the program with every command (exported for tests and for `--help` generation). */
export async function buildProgram(io: Io = processIo): Promise<Command> {
  return (await build(io, Object.keys(COMMANDS) as CommandName[])).program;
}

async function build(io: Io, names: readonly CommandName[]): Promise<{ program: Command; ctx: CommandContext }> {
  const registers = await Promise.all(names.map((n) => COMMANDS[n]()));
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
  for (const register of registers) register(program, ctx);
  for (const c of program.commands) {
    c.exitOverride();
    for (const sub of c.commands) sub.exitOverride();
  }
  return { program, ctx };
}

/** Runs the CLI and returns the exit code. */
export async function main(argv: readonly string[], io: Io = processIo): Promise<number> {
  const command = commandOf(argv);
  // serve gives the young generation back once it listens (start/young-generation.ts); the others run now.
  if (command !== 'serve') releaseYoungGeneration();
  const { program, ctx } = await build(io, command ? [command] : (Object.keys(COMMANDS) as CommandName[]));
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
