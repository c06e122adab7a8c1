// Command-line options of the benchmarks: `--help` prints the usage, an unknown option or a bad value is an
// error with the usage (exit status 2) instead of a run with silently wrong settings. Imports nothing from
// dist/, so `--help` works before `npm run build`.
import { parseArgs } from 'node:util';

/**
 * Parses `argv` against `spec` ({ name: { type: 'number' | 'string' | 'boolean' | 'list', default, min, max,
 * choices } }): numbers within [min, max], strings (and each item of a comma-separated list) among `choices`.
 * Returns { name: value } with the defaults filled in; with `positionals: n`, exactly n arguments besides the
 * options are required and returned as `_`.
 */
export function benchOptions(command, usage, spec, { positionals = 0, argv = process.argv.slice(2) } = {}) {
  const fail = (message) => {
    process.stderr.write(`${command}: ${message}\n\n${usage}\n`);
    process.exit(2);
  };
  const options = { help: { type: 'boolean', short: 'h' } };
  for (const [name, s] of Object.entries(spec)) options[name] = { type: s.type === 'boolean' ? 'boolean' : 'string' };
  let values;
  let rest = [];
  try {
    ({ values, positionals: rest } = parseArgs({ args: argv, options, strict: true, allowPositionals: positionals > 0 }));
  } catch (err) {
    fail(err instanceof Error ? err.message : String(err));
  }
  if (values.help) {
    process.stdout.write(`${usage}\n`);
    process.exit(0);
  }
  if (rest.length !== positionals) fail(`expected ${positionals} arguments besides the options, got ${rest.length}`);
  const out = positionals > 0 ? { _: rest } : {};
  for (const [name, s] of Object.entries(spec)) {
    const raw = values[name];
    if (raw === undefined) {
      out[name] = s.default;
      continue;
    }
    if (s.type === 'number') {
      const n = Number(raw);
      const min = s.min ?? 0;
      const max = s.max ?? Number.MAX_SAFE_INTEGER;
      if (raw.trim() === '' || !Number.isFinite(n) || n < min || n > max) fail(`--${name} must be a number from ${min} to ${max}, got "${raw}"`);
      out[name] = n;
    } else if (s.type === 'list') {
      const items = raw.split(',').map((x) => x.trim()).filter(Boolean);
      const bad = items.find((x) => s.choices && !s.choices.includes(x));
      if (items.length === 0 || bad !== undefined) fail(`--${name} takes a comma-separated list${s.choices ? ` of ${s.choices.join(', ')}` : ''}, got "${raw}"`);
      out[name] = items;
    } else if (s.type === 'string') {
      if (s.choices && !s.choices.includes(raw)) fail(`--${name} must be one of ${s.choices.join(', ')}, got "${raw}"`);
      out[name] = raw;
    } else out[name] = raw;
  }
  return out;
}
