/**
 * The young generation while a process starts. V8 doubles a semi-space whenever much of it survives a scavenge,
 * and loading modules and building the app is nothing but survivors: a serve process ended its start with two
 * 16 MiB semi-spaces (≈ 21 MiB of RSS, empty, kept while idle). Holding the growth factor at 1 during the start
 * keeps them at V8's initial 1 MiB; once the process listens the default growth is given back, so under load
 * the young generation grows exactly as before (throughput unchanged) and only the start-up garbage is not
 * paid for in RSS. `bin/naboom.js` holds before it loads any command; `serve` releases once it listens, every
 * other command before it runs. A `--semi-space-growth-factor` given in the node options wins: nothing is held.
 * (`--max-semi-space-size` cannot be changed once V8 runs; a growth factor can.)
 */
import { PerformanceObserver } from 'node:perf_hooks';
import { getHeapSpaceStatistics, setFlagsFromString } from 'node:v8';

const FLAG = '--semi-space-growth-factor';
/** V8's default growth factor (the value it would have had). */
const V8_DEFAULT_GROWTH = 2;
let held = false;

/**
 * Whether the node options (command line or NODE_OPTIONS) set the V8 flag `flag` (given as `--dashed-name`),
 * spelt with dashes or underscores as V8 accepts both.
 */
export function v8FlagGiven(flag: string, execArgv: readonly string[], nodeOptions: string | undefined): boolean {
  const underscored = `--${flag.slice(2).replaceAll('-', '_')}`;
  return [...execArgv, ...(nodeOptions ?? '').split(/\s+/)].some((a) => a.startsWith(flag) || a.startsWith(underscored));
}

/** Whether the node options (command line or NODE_OPTIONS) set the growth factor themselves. */
export function growthFactorGiven(execArgv: readonly string[], nodeOptions: string | undefined): boolean {
  return v8FlagGiven(FLAG, execArgv, nodeOptions);
}

/** Stops the young generation from growing until `releaseYoungGeneration()`. */
export function holdYoungGeneration(): void {
  if (held || growthFactorGiven(process.execArgv, process.env['NODE_OPTIONS'])) return;
  setFlagsFromString(`${FLAG}=1`);
  held = true;
}

/** Gives V8 its default growth back (no-op unless held). */
export function releaseYoungGeneration(): void {
  if (!held) return;
  setFlagsFromString(`${FLAG}=${V8_DEFAULT_GROWTH}`);
  held = false;
}

export const youngGenerationHeld = (): boolean => held;

/**
 * A serve process's young generation, in MiB per semi-space: the bound every serve process runs with, a cluster
 * worker through `--max-semi-space-size` (cluster.ts), a single process through `boundYoungGeneration`. V8's
 * default grows it to 16 MiB: accepting connections is nothing but survivors (each one's objects live as long
 * as it does), so 1,000 subscribers grew an idle single serve's new space from 1 to 16 MiB, kept while idle.
 * The fan-out allocates little per delivery (frames are shared); ingest pays for it — about 9 % of its alerts
 * per second on one machine, against the bound replaced by `--max-semi-space-size=16` — and 8 MiB left the
 * new space at 16 MiB through the first half minute idle after 1,000 connections (24 KiB of RSS each; V8
 * shrinks it only at the next scavenge, which an idle process reaches late) (BENCHMARKS.md, "Late night of
 * 2026-12-04").
 */
export const SERVE_SEMI_SPACE_MIB = 4;

/** The V8 flag that bounds the semi-spaces from the start (a cluster worker's way, cluster.ts). */
export const MAX_SEMI_SPACE_FLAG = '--max-semi-space-size';
const MIB = 1024 * 1024;
const newSpaceBytes = (): number => getHeapSpaceStatistics().find((s) => s.space_name === 'new_space')?.space_size ?? 0;

/** Whether the node options (command line or NODE_OPTIONS) bound or steer the young generation themselves. */
export function youngGenerationGiven(execArgv: readonly string[], nodeOptions: string | undefined): boolean {
  return growthFactorGiven(execArgv, nodeOptions) || v8FlagGiven(MAX_SEMI_SPACE_FLAG, execArgv, nodeOptions);
}

/**
 * Bounds the young generation of a process that is already running at `semiSpaceMiB` per semi-space, as
 * `--max-semi-space-size` does from the start (V8 reads that flag only as it starts; the growth factor it reads
 * at every growth). After each garbage collection the factor is 1 once the semi-spaces have reached the bound,
 * V8's default below it — so V8 still grows them under load up to the bound, and again after its memory
 * reducer shrank them. V8 grows a semi-space only when more than its size survived since it last grew, and the
 * observer runs between turns of the event loop: only a turn that keeps more than the bound alive passes it.
 * Does nothing when the node options set either flag, or while the start holds the young generation.
 * Returns a function that removes the bound.
 */
export function boundYoungGeneration(semiSpaceMiB: number): () => void {
  if (held || youngGenerationGiven(process.execArgv, process.env['NODE_OPTIONS'])) return () => undefined;
  const bound = 2 * semiSpaceMiB * MIB; // V8 counts both semi-spaces in the new space's size.
  let factor = V8_DEFAULT_GROWTH;
  const steer = (): void => {
    const want = newSpaceBytes() >= bound ? 1 : V8_DEFAULT_GROWTH;
    if (want === factor) return;
    setFlagsFromString(`${FLAG}=${want}`);
    factor = want;
  };
  steer();
  const observer = new PerformanceObserver(steer);
  observer.observe({ type: 'gc' });
  return () => {
    observer.disconnect();
    if (factor !== V8_DEFAULT_GROWTH) setFlagsFromString(`${FLAG}=${V8_DEFAULT_GROWTH}`);
    factor = V8_DEFAULT_GROWTH;
  };
}
