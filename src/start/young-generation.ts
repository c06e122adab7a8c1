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
import { constants, PerformanceObserver, type PerformanceEntry, type PerformanceObserverEntryList } from 'node:perf_hooks';
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
 * A serve process's young generation, in MiB per semi-space, while it allocates slowly: idle, light load,
 * connections arriving. V8's default grows it to 16 MiB: accepting connections is nothing but survivors (each
 * one's objects live as long as it does), so 1,000 subscribers grew an idle single serve's new space from 1 to
 * 16 MiB, kept while idle; bounded at 8 MiB it stayed at 16 MiB through the first half minute idle (24 KiB of
 * RSS per connection; V8 shrinks it only at the next scavenge, which an idle process reaches late)
 * (BENCHMARKS.md, "Late night of 2026-12-04").
 */
export const SERVE_SEMI_SPACE_MIB = 4;
/**
 * The bound while the process allocates fast (SERVE_BUSY_ALLOCATION_MIB_PER_S): V8's own default. Raising
 * alerts is nothing but short-lived garbage; with 4 MiB semi-spaces a scavenge came every few milliseconds at
 * ingest rates, each copying the requests then in flight, and cost an ingest run about a tenth of its alerts
 * per second (BENCHMARKS.md, "Small hours of 2026-12-05").
 */
export const SERVE_BUSY_SEMI_SPACE_MIB = 16;
/**
 * Allocation (MiB in the last second, counted as the semi-space filled at each scavenge) from which a serve
 * process is busy. Ingest at 5,000 alerts/s allocates about 300 MiB/s, 2,000 alerts/s about 120; 1,000
 * WebSocket clients subscribing at once, at most about 60 (14 scavenges of at most 4 MiB in their busiest second).
 */
export const SERVE_BUSY_ALLOCATION_MIB_PER_S = 128;

/** The V8 flag that bounds the semi-spaces from the start (a cluster worker's way, cluster.ts). */
export const MAX_SEMI_SPACE_FLAG = '--max-semi-space-size';
const MIB = 1024 * 1024;
const newSpaceBytes = (): number => getHeapSpaceStatistics().find((s) => s.space_name === 'new_space')?.space_size ?? 0;

/** Whether the node options (command line or NODE_OPTIONS) bound or steer the young generation themselves. */
export function youngGenerationGiven(execArgv: readonly string[], nodeOptions: string | undefined): boolean {
  return growthFactorGiven(execArgv, nodeOptions) || v8FlagGiven(MAX_SEMI_SPACE_FLAG, execArgv, nodeOptions);
}

/** A higher bound for the time the process allocates fast (see SERVE_BUSY_SEMI_SPACE_MIB). */
export interface BusyBound {
  /** MiB per semi-space while busy. */
  readonly semiSpaceMiB: number;
  /** Busy while at least this many MiB were allocated in the last second. */
  readonly allocationMiBPerS: number;
}

/** A `gc` performance entry (Node puts the kind of collection in `detail`). */
type GcEntry = PerformanceEntry & { readonly detail?: { readonly kind?: number } };

/** How far back the allocation rate looks. */
const RATE_WINDOW_MS = 1000;

/**
 * Bounds the young generation of a process that is already running at `semiSpaceMiB` per semi-space, as
 * `--max-semi-space-size` does from the start (V8 reads that flag only as it starts; the growth factor it reads
 * at every growth). After each garbage collection the factor is 1 once the semi-spaces have reached the bound,
 * V8's default below it — so V8 still grows them under load up to the bound, and again after its memory
 * reducer shrank them. V8 grows a semi-space only when more than its size survived since it last grew, and the
 * observer runs between turns of the event loop: only a turn that keeps more than the bound alive passes it.
 * With `busy`, the bound is `busy.semiSpaceMiB` while the process allocates at least `busy.allocationMiBPerS`:
 * what fills the young generation then is short-lived (requests), and bigger semi-spaces mean fewer scavenges
 * of the same few survivors. Once the rate falls the bound is `semiSpaceMiB` again; V8 gives the room back at
 * a later scavenge, when it sees the allocation rate low.
 * Does nothing when the node options set either flag, or while the start holds the young generation.
 * Returns a function that removes the bound.
 */
export function boundYoungGeneration(semiSpaceMiB: number, busy?: BusyBound): () => void {
  if (held || youngGenerationGiven(process.execArgv, process.env['NODE_OPTIONS'])) return () => undefined;
  const idleBound = 2 * semiSpaceMiB * MIB; // V8 counts both semi-spaces in the new space's size.
  const busyBound = busy ? 2 * busy.semiSpaceMiB * MIB : idleBound;
  const busyBytes = busy ? busy.allocationMiBPerS * MIB : Infinity;
  // Per scavenge in the window: when it ended and how much it had filled (one semi-space).
  const scavenges: { at: number; bytes: number }[] = [];
  let recent = 0;
  let factor = V8_DEFAULT_GROWTH;
  const steer = (list?: PerformanceObserverEntryList): void => {
    const size = newSpaceBytes();
    if (busy && list) {
      const now = performance.now();
      for (const e of list.getEntries()) {
        if ((e as GcEntry).detail?.kind !== constants.NODE_PERFORMANCE_GC_MINOR) continue;
        scavenges.push({ at: now, bytes: size / 2 });
        recent += size / 2;
      }
      while (scavenges.length > 0 && (scavenges[0]?.at ?? now) < now - RATE_WINDOW_MS) recent -= scavenges.shift()?.bytes ?? 0;
    }
    const bound = recent >= busyBytes ? busyBound : idleBound;
    const want = size >= bound ? 1 : V8_DEFAULT_GROWTH;
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
