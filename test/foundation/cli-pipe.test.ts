/** The built CLI as a shell pipeline sees it: `naboom … | head` may close stdout before the output is written. */
import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { childEnv, NABOOM_BIN } from '../helpers/cli.js';

describe('naboom with its stdout closed early', () => {
  it('exits quietly with its own code instead of crashing on EPIPE', async () => {
    const child = spawn(process.execPath, [NABOOM_BIN, '--help'], { env: childEnv({}), stdio: ['ignore', 'pipe', 'pipe'] });
    // The reader goes away before the help is written (as `head -1` does after its line).
    child.stdout.destroy();
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)));
    expect(stderr).not.toMatch(/EPIPE|Unhandled 'error'/);
    expect(code).toBe(0);
  });
});
