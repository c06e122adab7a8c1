/**
 * What every CLI command shares: the global options, loading the configuration once for the roles the
 * command needs, the process logger, and turning errors into a code, a hint and an exit status.
 */
import type { Command } from 'commander';
import { loadConfig, type Config } from '../config/load.js';
import { isNaboomError } from '../errors/catalogue.js';
import { createLogger, type Logger } from '../log/logger.js';
import { diagnoseClusterAcl, isSlotsRefreshFailure } from '../redis/cluster-acl.js';
import { classifyRedisError } from '../redis/errors.js';
import { createKeySpace, layoutOf, type KeySpace } from '../redis/keys.js';
import { CLIENT_ROLES, type ClientRole, type RoleName } from '../redis/roles.js';

export interface GlobalOptions {
  envFile?: string;
}

/** Output sinks; tests replace them to capture what a command prints. */
export interface Io {
  out(text: string): void;
  err(text: string): void;
}

export const processIo: Io = {
  out: (t) => process.stdout.write(t),
  err: (t) => process.stderr.write(t),
};

export interface CommandContext {
  readonly io: Io;
  /** Loads (once) and returns the configuration for a command. */
  config(needs: { roles?: readonly RoleName[]; secretKey?: boolean; command: string }): Config;
  /** The key space of the command's deployment, built once per process and passed down. */
  keys(config: Config): KeySpace;
  logger(config?: Config): Logger;
  /** The configuration and roles a command loaded, if it got that far (for explaining its failure). */
  loaded(): { config: Config; roles: readonly RoleName[] } | undefined;
}

export function createContext(program: Command, io: Io): CommandContext {
  let cached: Config | undefined;
  let roles: readonly RoleName[] = [];
  let log: Logger | undefined;
  let keys: KeySpace | undefined;
  return {
    io,
    config(needs) {
      if (!cached) {
        const g = program.opts<GlobalOptions>();
        cached = loadConfig({
          ...(g.envFile ? { envFile: g.envFile } : {}),
          requireRoles: needs.roles ?? [],
          requireSecretKey: needs.secretKey ?? false,
          command: needs.command,
        });
        roles = needs.roles ?? [];
      }
      return cached;
    },
    keys(config) {
      return (keys ??= createKeySpace(layoutOf(config)));
    },
    loaded() {
      return cached ? { config: cached, roles } : undefined;
    },
    logger(config) {
      if (!log) log = createLogger({ level: config?.settings.LOG_LEVEL ?? 'info' });
      return log;
    },
  };
}

/**
 * Replaces an error whose real cause only a probe can tell with the explained one: on Cluster, a slots
 * refresh failure caused by nodes carrying the standalone ACL becomes NABOOM_REDIS_CLUSTER_ACL.
 */
export async function explainError(err: unknown, ctx: CommandContext): Promise<unknown> {
  const loaded = ctx.loaded();
  if (!loaded || loaded.config.topology.kind !== 'cluster') return err;
  let slotsFailure = false;
  for (let e: unknown = err, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) slotsFailure ||= isSlotsRefreshFailure(e);
  if (!slotsFailure) return err;
  const clientRoles = loaded.roles.filter((r): r is ClientRole => (CLIENT_ROLES as readonly string[]).includes(r));
  try {
    return (await diagnoseClusterAcl(loaded.config, clientRoles.length ? clientRoles : CLIENT_ROLES)) ?? err;
  } catch {
    return err;
  }
}

/** Prints an error as `error CODE: message` plus a hint, and returns the exit code. */
export function reportError(io: Io, err: unknown): number {
  if (isNaboomError(err)) {
    io.err(`error ${err.code}: ${err.message}\n`);
    if (err.hint) io.err(`  hint: ${err.hint}\n`);
    return err.exitCode;
  }
  const e = err instanceof Error ? err : new Error(String(err));
  const wrapped = classifyRedisError(e);
  if (wrapped) return reportError(io, wrapped);
  io.err(`error NABOOM_INTERNAL: ${e.message}\n`);
  return 2;
}
