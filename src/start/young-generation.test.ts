import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { growthFactorGiven } from './young-generation.js';

describe('young generation during the start', () => {
  it('a growth factor in the node options wins', () => {
    expect(growthFactorGiven([], undefined)).toBe(false);
    expect(growthFactorGiven(['--max-semi-space-size=4'], '--enable-source-maps')).toBe(false);
    expect(growthFactorGiven(['--semi-space-growth-factor=4'], undefined)).toBe(true);
    expect(growthFactorGiven([], '--max-old-space-size=512 --semi_space_growth_factor=3')).toBe(true);
  });

  it('held, surviving allocations leave the semi-spaces at their initial size; released, V8 grows them again (built module)', () => {
    const mod = fileURLToPath(new URL('../../dist/start/young-generation.js', import.meta.url));
    const newSpaceMiB = (hold: boolean, release: boolean): number => {
      const script = `
        import { getHeapSpaceStatistics } from 'node:v8';
        const y = await import(${JSON.stringify(mod)});
        if (${hold}) y.holdYoungGeneration();
        if (${release}) y.releaseYoungGeneration();
        const keep = [];
        for (let i = 0; i < 300_000; i++) keep.push({ i, s: 'x' + i });
        console.log(getHeapSpaceStatistics().find((s) => s.space_name === 'new_space').space_size / 1048576);`;
      return Number(execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' }));
    };
    expect(newSpaceMiB(true, false)).toBeLessThanOrEqual(2);
    expect(newSpaceMiB(false, false)).toBeGreaterThan(2);
    expect(newSpaceMiB(true, true)).toBeGreaterThan(2);
  });
});
