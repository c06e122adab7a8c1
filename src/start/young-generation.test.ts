import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { growthFactorGiven, youngGenerationGiven } from './young-generation.js';

/** The built module: V8's flags are process-wide, so each case runs it in a fresh node process. */
const MODULE = fileURLToPath(new URL('../../dist/start/young-generation.js', import.meta.url));

/**
 * Runs `body` as an ES module in a fresh node process, with `y` (the built module), `newSpace()` (the new
 * space's size in MiB, both semi-spaces) and `sleep` in scope; returns the number it prints.
 */
function inFreshNode(body: string, nodeArgs: readonly string[] = []): number {
  const script = `
    import { getHeapSpaceStatistics } from 'node:v8';
    import { setTimeout as sleep } from 'node:timers/promises';
    const y = await import(${JSON.stringify(MODULE)});
    const newSpace = () => getHeapSpaceStatistics().find((s) => s.space_name === 'new_space').space_size / 1048576;
    ${body}`;
  return Number(execFileSync(process.execPath, [...nodeArgs, '--input-type=module', '-e', script], { encoding: 'utf8' }));
}

describe('young generation during the start', () => {
  it('a growth factor in the node options wins', () => {
    expect(growthFactorGiven([], undefined)).toBe(false);
    expect(growthFactorGiven(['--max-semi-space-size=4'], '--enable-source-maps')).toBe(false);
    expect(growthFactorGiven(['--semi-space-growth-factor=4'], undefined)).toBe(true);
    expect(growthFactorGiven([], '--max-old-space-size=512 --semi_space_growth_factor=3')).toBe(true);
  });

  it('a semi-space bound or growth factor in the node options wins over the bound of a running serve', () => {
    expect(youngGenerationGiven(['--enable-source-maps'], '--max-old-space-size=512')).toBe(false);
    expect(youngGenerationGiven(['--max-semi-space-size=4'], undefined)).toBe(true);
    expect(youngGenerationGiven([], '--max_semi_space_size=8')).toBe(true);
    expect(youngGenerationGiven([], '--semi-space-growth-factor=1')).toBe(true);
  });

  it('bounded while running, objects that survive turn after turn grow the semi-spaces to the bound and no further (built module)', () => {
    // A server's way of keeping objects: some in every turn of the event loop (connections, each living on).
    const maxNewSpaceMiB = (bound: number | undefined, nodeArgs: string[] = []): number =>
      inFreshNode(
        `
        y.holdYoungGeneration();
        y.releaseYoungGeneration();
        if (${bound ?? 0}) y.boundYoungGeneration(${bound ?? 0});
        const keep = [];
        let max = 0;
        for (let turn = 0; turn < 300; turn++) {
          for (let i = 0; i < 2000; i++) keep.push({ i, s: 'x' + i });
          max = Math.max(max, newSpace());
          await new Promise((r) => setImmediate(r));
        }
        console.log(max);`,
        nodeArgs,
      );
    // The new space counts both semi-spaces.
    expect(maxNewSpaceMiB(undefined)).toBeGreaterThan(8);
    expect(maxNewSpaceMiB(2)).toBe(4);
    expect(maxNewSpaceMiB(4)).toBe(8);
    // Node options win: a bound given there is V8's own, and the running bound stays out of the way.
    expect(maxNewSpaceMiB(2, ['--max-semi-space-size=8'])).toBe(16);
  });

  it('with a busy bound, fast allocation (requests in flight) grows the semi-spaces to it, slow allocation keeps the idle bound (built module)', () => {
    // Each turn allocates `perTurn` objects and keeps the newest `live` of them (the requests in flight), then
    // waits `pauseMs`; the largest new space seen, in MiB.
    const maxNewSpaceMiB = (perTurn: number, live: number, pauseMs: number, turns: number): number =>
      inFreshNode(`
        y.holdYoungGeneration();
        y.releaseYoungGeneration();
        y.boundYoungGeneration(1, { semiSpaceMiB: 8, allocationMiBPerS: 64 });
        const ring = new Array(${live});
        let n = 0;
        let max = 0;
        for (let turn = 0; turn < ${turns}; turn++) {
          for (let i = 0; i < ${perTurn}; i++) ring[n++ % ring.length] = { i, s: 'x' + i, a: [i, i] };
          max = Math.max(max, newSpace());
          await (${pauseMs} > 0 ? sleep(${pauseMs}) : new Promise((r) => setImmediate(r)));
        }
        console.log(max);`);
    // Hundreds of MiB per second, a few MiB alive at any time: busy, up to 8 MiB per semi-space and no further.
    expect(maxNewSpaceMiB(20_000, 30_000, 0, 400)).toBe(16);
    // As many survivors, allocated at well under 64 MiB/s (400 objects, about 40 KiB, every 5 ms or more;
    // 1,000 of them came close to it): the idle bound.
    expect(maxNewSpaceMiB(400, 30_000, 5, 300)).toBe(2);
  });

  it('held, surviving allocations leave the semi-spaces at their initial size; released, V8 grows them again (built module)', () => {
    const newSpaceMiB = (hold: boolean, release: boolean): number =>
      inFreshNode(`
        if (${hold}) y.holdYoungGeneration();
        if (${release}) y.releaseYoungGeneration();
        const keep = [];
        for (let i = 0; i < 300_000; i++) keep.push({ i, s: 'x' + i });
        console.log(newSpace());`);
    expect(newSpaceMiB(true, false)).toBeLessThanOrEqual(2);
    expect(newSpaceMiB(false, false)).toBeGreaterThan(2);
    expect(newSpaceMiB(true, true)).toBeGreaterThan(2);
  });
});
