/**
 * The CLI loads only the command it runs (src/cli/main.ts): help, errors and exit codes must be those of the
 * whole program, and `naboom serve` must not load the other commands' modules.
 */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { buildProgram, commandOf, main } from '../../src/cli/main.js';
import type { Io } from '../../src/cli/context.js';

const capture = (): Io & { text: () => string } => {
  let text = '';
  return { out: (t) => void (text += `out:${t}`), err: (t) => void (text += `err:${t}`), text: () => text };
};

/** What the whole program (every command registered) prints and returns for argv. */
async function whole(argv: string[]): Promise<{ code: number; text: string }> {
  const io = capture();
  const program = await buildProgram(io);
  for (const c of program.commands) c.exitOverride();
  let code = 0;
  try {
    await program.parseAsync(argv);
  } catch (err) {
    const c = (err as { code?: string }).code ?? '';
    code = c === 'commander.helpDisplayed' || c === 'commander.version' || c === 'commander.help' ? 0 : 2;
  }
  return { code, text: io.text() };
}

async function lazy(argv: string[]): Promise<{ code: number; text: string }> {
  const io = capture();
  const code = await main(argv, io);
  return { code, text: io.text() };
}

const NAMES = ['init', 'acl', 'redis', 'verify', 'serve', 'users', 'dev', 'worker', 'queue', 'django'];

describe('naboom CLI, one command loaded at a time', () => {
  it('finds the command past the global options, and none for help, version or an unknown word', () => {
    expect(commandOf(['node', 'naboom', 'serve', '--port', '1'])).toBe('serve');
    expect(commandOf(['node', 'naboom', '--env-file', 'serve', 'worker'])).toBe('worker');
    expect(commandOf(['node', 'naboom', '--env-file=x', 'acl', 'diff'])).toBe('acl');
    expect(commandOf(['node', 'naboom', '--help', 'serve'])).toBeUndefined();
    expect(commandOf(['node', 'naboom', '-V'])).toBeUndefined();
    expect(commandOf(['node', 'naboom', 'help', 'serve'])).toBeUndefined();
    expect(commandOf(['node', 'naboom', 'serv'])).toBeUndefined();
    expect(commandOf(['node', 'naboom', 'toString'])).toBeUndefined();
    expect(commandOf(['node', 'naboom'])).toBeUndefined();
  });

  it('every command prints the same help as in the whole program', async () => {
    const program = await buildProgram(capture());
    expect(program.commands.map((c) => c.name())).toEqual(NAMES);
    for (const name of NAMES) {
      const argv = ['node', 'naboom', name, '--help'];
      const [a, b] = [await lazy(argv), await whole(argv)];
      expect(a.text, name).toBe(b.text);
      expect(a.text, name).toContain(`Usage: naboom ${name}`);
      expect(a.code).toBe(0);
    }
    for (const sub of [['acl', 'log', '--help'], ['redis', 'start', '--help'], ['users', 'add', '--help']]) {
      const argv = ['node', 'naboom', ...sub];
      expect((await lazy(argv)).text, sub.join(' ')).toBe((await whole(argv)).text);
    }
  });

  it('the program help, an unknown command and a usage error are unchanged', async () => {
    for (const argv of [['--help'], ['help'], ['serv'], ['serve', '--bogus'], ['serve', '--port'], ['acl', 'frobnicate'], ['--version'], []]) {
      const full = ['node', 'naboom', ...argv];
      const [a, b] = [await lazy(full), await whole(full)];
      expect(a.text, argv.join(' ')).toBe(b.text);
    }
    const top = await lazy(['node', 'naboom', '--help']);
    for (const name of NAMES) expect(top.text).toContain(`  ${name}`);
    expect((await lazy(['node', 'naboom', 'serv'])).text).toMatch(/unknown command 'serv'[\s\S]*Did you mean serve\?/);
    expect((await lazy(['node', 'naboom', 'serv'])).code).toBe(2);
  });

  it('`serve` does not load the worker, web-push, BullMQ or verify code; `worker` does (built CLI)', () => {
    const mainJs = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));
    const loaded = (command: string): string[] => {
      const script = `
        import { createRequire } from 'node:module';
        const { main } = await import(${JSON.stringify(mainJs)});
        await main(['node', 'naboom', ${JSON.stringify(command)}, '--help'], { out() {}, err() {} });
        const cache = Object.keys(createRequire(import.meta.url).cache);
        console.log(JSON.stringify(['web-push', 'bullmq', 'fastify', 'commander'].filter((p) => cache.some((k) => k.includes('/node_modules/' + p + '/')))));`;
      return JSON.parse(execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' })) as string[];
    };
    expect(loaded('serve')).toEqual(['commander']);
    expect(loaded('worker')).toEqual(expect.arrayContaining(['web-push', 'bullmq']));
  });
});
