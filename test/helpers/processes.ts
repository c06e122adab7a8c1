/** Real `naboom serve` / `naboom worker` child processes for multi-process and fault tests. */
import { spawn, type ChildProcess } from 'node:child_process';
import { childEnv, NABOOM_BIN } from './cli.js';

export interface ServeProcess {
  readonly child: ChildProcess;
  readonly url: string;
  readonly output: () => string;
  /** SIGTERM and wait. */
  stop(): Promise<void>;
  /** SIGKILL and wait. */
  kill(): Promise<void>;
}

async function untilExit(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  await new Promise((r) => child.once('exit', r));
}

/** Starts `naboom serve --port 0` (one process unless `extra` sets SERVE_WORKERS) and resolves with its URL once it listens. */
export async function spawnServe(envFile: string, extra: Record<string, string> = {}): Promise<ServeProcess> {
  const child = spawn(process.execPath, [NABOOM_BIN, 'serve', '--port', '0'], { env: childEnv({ NABOOM_ENV_FILE: envFile, SERVE_WORKERS: '1', ...extra }), stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const url = await new Promise<string>((resolve, reject) => {
    const onData = (d: Buffer): void => {
      out += d.toString();
      const m = /naboom serve: listening on (http:\/\/\S+)/.exec(out);
      if (m?.[1]) resolve(m[1]);
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code) => reject(new Error(`serve exited with ${code}: ${out}`)));
  });
  return {
    child,
    url,
    output: () => out,
    stop: async () => {
      child.kill('SIGTERM');
      await untilExit(child);
    },
    kill: async () => {
      child.kill('SIGKILL');
      await untilExit(child);
    },
  };
}
