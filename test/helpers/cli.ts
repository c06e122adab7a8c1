/** Runs the built `naboom` CLI as a user would, in a child process, and captures its output. */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const NABOOM_BIN = fileURLToPath(new URL('../../bin/naboom.js', import.meta.url));

export interface CliResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Environment for child processes: the test's variables only, never the machine's REDIS_* settings. */
export function childEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const base: NodeJS.ProcessEnv = {};
  for (const k of ['PATH', 'HOME', 'LANG', 'TMPDIR', 'NODE_OPTIONS']) if (process.env[k]) base[k] = process.env[k];
  return { ...base, ...extra };
}

export async function runCli(args: readonly string[], opts: { env?: Record<string, string>; cwd?: string; timeoutMs?: number; stdin?: string } = {}): Promise<CliResult> {
  const child = spawn(process.execPath, [NABOOM_BIN, ...args], { cwd: opts.cwd, env: childEnv(opts.env ?? {}), stdio: [opts.stdin === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
  if (opts.stdin !== undefined) child.stdin?.end(opts.stdin);
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 60_000);
  const code = await new Promise<number | null>((res) => child.on('close', (c) => res(c)));
  clearTimeout(timer);
  return { code, stdout, stderr };
}
