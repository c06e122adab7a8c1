/**
 * `naboom serve --workers N`: N serve processes sharing one port through node:cluster (Node 20 has no
 * SO_REUSEPORT option; the primary accepts and hands each connection to the next worker). Every worker is a
 * complete serve process that tails the feed itself, exactly as several hosts do, so delivery, replay and
 * slow-consumer handling are those of N hosts. The primary serves nothing; it forwards: a shutdown and SIGHUP
 * reach every worker, a second signal forces them, and it answers the workers' /metrics with every worker's
 * metrics aggregated (metrics/cluster.ts).
 *
 * Workers take their orders from the primary's messages. A terminal's Ctrl-C also signals every worker
 * directly; the primary's stop then finds it already stopping instead of counting as a second signal.
 */
import cluster, { type Worker } from 'node:cluster';
import type { Logger } from '../log/logger.js';
import { clusterMetricsSource, serveClusterMetrics } from '../metrics/cluster.js';
import type { RunningServer } from './server.js';
import { MAX_SEMI_SPACE_FLAG, SERVE_SEMI_SPACE_MIB, v8FlagGiven } from './young-generation.js';

type Order = 'stop' | 'force' | 'reload';
const ORDER = 'naboom:serve';
/** A worker that dies on its own is replaced after this, so a crash loop cannot spin. */
const RESPAWN_MS = 1000;
/** The node options a worker starts with: the primary's, plus the serve semi-space bound (young-generation.ts) unless one was given. */
export function workerExecArgv(execArgv: readonly string[], nodeOptions: string | undefined): string[] {
  return v8FlagGiven(MAX_SEMI_SPACE_FLAG, execArgv, nodeOptions) ? [...execArgv] : [...execArgv, `${MAX_SEMI_SPACE_FLAG}=${SERVE_SEMI_SPACE_MIB}`];
}

const orderOf = (m: unknown): Order | undefined => {
  if (typeof m !== 'object' || m === null) return undefined;
  const { type, order } = m as { type?: unknown; order?: unknown };
  return type === ORDER && (order === 'stop' || order === 'force' || order === 'reload') ? order : undefined;
};

/** Whether this process is a serve worker started by a primary. */
export const isServeWorker = (): boolean => cluster.isWorker;

export interface PrimaryOptions {
  readonly workers: number;
  readonly logger: Logger;
  /** Called once every worker listens, with the port they share. */
  onListening(port: number): void;
  /** Graceful stop deadline, as for one process. */
  readonly deadlineMs?: number;
}

/**
 * Runs the primary: forks the workers and resolves once they have all exited after a shutdown. A worker
 * that fails before the first full start stops the others and rejects.
 */
export async function runServePrimary(o: PrimaryOptions): Promise<void> {
  serveClusterMetrics();
  const listening = new Set<number>();
  let started = false;
  let stopping = false;
  let signals = 0;
  const send = (order: Order): void => {
    for (const w of Object.values(cluster.workers ?? {})) if (w?.isConnected()) w.send({ type: ORDER, order });
  };
  const alive = (): Worker[] => Object.values(cluster.workers ?? {}).filter((w): w is Worker => w !== undefined && !w.isDead());

  return new Promise<void>((resolve, reject) => {
    const onSignal = (sig: NodeJS.Signals): void => {
      signals += 1;
      if (signals === 1) {
        stopping = true;
        o.logger.info({ signal: sig, workers: alive().length }, 'stopping every serve worker');
        send('stop');
        const timer = setTimeout(() => {
          o.logger.warn({ deadlineMs: o.deadlineMs ?? 15_000 }, 'serve workers took too long to stop: forcing');
          send('force');
        }, o.deadlineMs ?? 15_000);
        timer.unref();
      } else {
        send('force');
        process.exit(130);
      }
    };
    const onHup = (): void => send('reload');
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    process.on('SIGHUP', onHup);

    cluster.on('listening', (worker, address) => {
      listening.add(worker.id);
      if (!started && listening.size === o.workers) {
        started = true;
        o.onListening(address.port);
      }
    });
    cluster.on('exit', (worker, code, signal) => {
      listening.delete(worker.id);
      if (stopping || !started) {
        if (!stopping && !started) {
          // A worker that cannot start (port in use, Redis refused) will not start on a retry either.
          stopping = true;
          send('stop');
          reject(new Error(`a serve worker exited with ${signal ?? code} before it listened`));
        }
        if (alive().length === 0) {
          process.off('SIGINT', onSignal);
          process.off('SIGTERM', onSignal);
          process.off('SIGHUP', onHup);
          if (started) resolve();
        }
        return;
      }
      o.logger.error({ worker: worker.id, code, signal }, 'a serve worker died: starting another');
      setTimeout(() => {
        if (!stopping) cluster.fork();
      }, RESPAWN_MS).unref();
    });
    cluster.setupPrimary({ execArgv: workerExecArgv(process.execArgv, process.env['NODE_OPTIONS']) });
    for (let i = 0; i < o.workers; i++) cluster.fork();
  });
}

/**
 * Runs inside a worker once its server listens: obeys the primary's orders, /metrics answers for every worker,
 * and the worker stops when told, on a signal of its own, or when the primary is gone.
 */
export async function runServeWorker(server: RunningServer, deadlineMs = 15_000): Promise<void> {
  server.metrics.exposeFrom(clusterMetricsSource(server.metrics.registry));
  await new Promise<void>((resolve) => {
    let stopping = false;
    const stop = (): void => {
      if (stopping) return;
      stopping = true;
      const timer = setTimeout(() => process.exit(1), deadlineMs);
      timer.unref();
      server.stop().then(
        () => {
          clearTimeout(timer);
          resolve();
        },
        () => process.exit(1),
      );
    };
    process.on('message', (m: unknown) => {
      const order = orderOf(m);
      if (order === 'stop') stop();
      else if (order === 'force') process.exit(130);
      else if (order === 'reload') server.reloadCredentials();
    });
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
    process.on('SIGHUP', () => server.reloadCredentials());
    process.on('disconnect', stop);
  });
  // The IPC channel would keep the finished worker alive.
  if (process.connected) process.disconnect();
}
