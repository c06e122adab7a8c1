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
import { setFlagsFromString } from 'node:v8';

const FLAG = '--semi-space-growth-factor';
/** V8's default growth factor (the value it would have had). */
const V8_DEFAULT_GROWTH = 2;
let held = false;

/** Whether the node options (command line or NODE_OPTIONS) set the growth factor themselves. */
export function growthFactorGiven(execArgv: readonly string[], nodeOptions: string | undefined): boolean {
  return [...execArgv, ...(nodeOptions ?? '').split(/\s+/)].some((a) => a.startsWith(FLAG) || a.startsWith('--semi_space_growth_factor'));
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
