/**
 * The benchmarks' options (bench/options.mjs): `--help` prints the usage, and a typo or a bad value stops the
 * run with the usage and exit status 2 — a benchmark never runs for minutes with settings it silently ignored.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const SPEC = `{ clients: { type: 'number', default: 10, min: 1, max: 100 }, only: { type: 'list', default: ['ws'], choices: ['ws', 'naboom'] }, mode: { type: 'string', default: 'a', choices: ['a', 'b'] }, tls: { type: 'boolean', default: false } }`;

function run(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const script = `import { benchOptions } from './bench/options.mjs'; console.log(JSON.stringify(benchOptions('bench:x', 'Usage: bench:x [options]', ${SPEC}, { argv: process.argv.slice(1) })));`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script, '--', ...args], { cwd: ROOT, encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('benchmark options', () => {
  it('fills in the defaults and parses what is given', () => {
    expect(JSON.parse(run().stdout)).toEqual({ clients: 10, only: ['ws'], mode: 'a', tls: false });
    expect(JSON.parse(run('--clients', '25', '--only', 'naboom,ws', '--mode=b', '--tls').stdout)).toEqual({ clients: 25, only: ['naboom', 'ws'], mode: 'b', tls: true });
  });

  it('--help prints the usage and runs nothing', () => {
    const r = run('--help');
    expect(r.status).toBe(0);
    expect(r.stdout).toBe('Usage: bench:x [options]\n');
  });

  it.each([
    [['--clinets', '5'], "Unknown option '--clinets'"],
    [['--clients', 'abc'], '--clients must be a number from 1 to 100, got "abc"'],
    [['--clients', '0'], '--clients must be a number from 1 to 100, got "0"'],
    [['--clients', ''], '--clients must be a number from 1 to 100, got ""'],
    [['--only', 'ws,sio'], '--only takes a comma-separated list of ws, naboom, got "ws,sio"'],
    [['--mode', 'c'], '--mode must be one of a, b, got "c"'],
    [['extra'], 'Unexpected argument'],
  ])('%j is refused with the usage and exit status 2', (args, message) => {
    const r = run(...args);
    expect(r.status).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain(`bench:x: ${message}`);
    expect(r.stderr).toContain('Usage: bench:x [options]');
  });
});
