// Compares two V8 heap snapshots (e.g. of `naboom serve` early and late in a soak run): live object count
// and self size per constructor/type, the biggest growth first, and for the top growers a retainer path
// from a sample instance towards the roots, to name the structure that holds them.
// Usage: node bench/heap-diff.mjs --help
import { readFileSync } from 'node:fs';
import { benchOptions } from './options.mjs';

const USAGE = `Usage: node --max-old-space-size=4096 bench/heap-diff.mjs before.heapsnapshot after.heapsnapshot [options]
Live objects and self size per constructor, the biggest growth first, with retainer paths of the top growers.
  --top N           constructors listed (25)
  --paths N         top growers given a retainer path (5)
  --path-for LIST   retainer paths of the newest instances of these constructors (e.g. IncomingMessage,Session)`;
const opts = benchOptions('bench/heap-diff.mjs', USAGE, {
  top: { type: 'number', default: 25, min: 1, max: 10_000 },
  paths: { type: 'number', default: 5, min: 0, max: 1000 },
  'path-for': { type: 'list', default: [] },
}, { positionals: 2 });
const [beforeFile, afterFile] = opts._;
const PATH_FOR = opts['path-for'];
const TOP = opts.top;
const PATHS = opts.paths;

function load(file) {
  let snap;
  try {
    snap = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    process.stderr.write(`bench/heap-diff.mjs: cannot read ${file} as a heap snapshot: ${err.message}\n`);
    process.exit(1);
  }
  const { node_fields: nf, edge_fields: ef, node_types: nt, edge_types: et } = snap.snapshot.meta;
  const N = nf.length;
  const E = ef.length;
  const nTypes = nt[0];
  const eTypes = et[0];
  const iType = nf.indexOf('type');
  const iName = nf.indexOf('name');
  const iSize = nf.indexOf('self_size');
  const iEdges = nf.indexOf('edge_count');
  const iEType = ef.indexOf('type');
  const iEName = ef.indexOf('name_or_index');
  const iETo = ef.indexOf('to_node');
  const nodes = snap.nodes;
  const edges = snap.edges;
  const strings = snap.strings;
  const count = nodes.length / N;
  const firstEdge = new Uint32Array(count + 1);
  for (let n = 0, e = 0; n < count; n++) {
    firstEdge[n] = e;
    e += nodes[n * N + iEdges] * E;
    firstEdge[n + 1] = e;
  }
  const key = (n) => {
    const type = nTypes[nodes[n * N + iType]];
    const name = strings[nodes[n * N + iName]];
    // Strings and numbers by type only (their "name" is the value); objects by constructor.
    if (type === 'string' || type === 'concatenated string' || type === 'sliced string' || type === 'number' || type === 'heap number') return `(${type})`;
    if (type === 'code' || type === 'hidden') return `(${type}) ${name.slice(0, 40)}`;
    return `${type === 'object' ? '' : `(${type}) `}${name.slice(0, 80)}`;
  };
  const groups = new Map();
  for (let n = 0; n < count; n++) {
    const k = key(n);
    const g = groups.get(k) ?? { count: 0, size: 0, sample: n };
    g.count += 1;
    g.size += nodes[n * N + iSize];
    groups.set(k, g);
  }
  return { snap, N, E, nodes, edges, strings, nTypes, eTypes, iType, iName, iSize, iEType, iEName, iETo, count, firstEdge, key, groups };
}

function retainerPath(h, start, depth = 10) {
  // Reverse edges, built once per snapshot on demand.
  if (!h.retainers) {
    const byTo = new Map();
    for (let n = 0; n < h.count; n++) {
      for (let e = h.firstEdge[n]; e < h.firstEdge[n + 1]; e += h.E) {
        const type = h.eTypes[h.edges[e + h.iEType]];
        if (type === 'weak' || type === 'shortcut') continue;
        const to = h.edges[e + h.iETo] / h.N;
        let list = byTo.get(to);
        if (!list) byTo.set(to, (list = []));
        if (list.length < 4) list.push([n, e]);
      }
    }
    h.retainers = byTo;
  }
  const parts = [];
  const seen = new Set([start]);
  let at = start;
  for (let d = 0; d < depth; d++) {
    const list = (h.retainers.get(at) ?? []).filter(([n]) => !seen.has(n));
    if (list.length === 0) break;
    // Prefer a retainer that is a named object over internal arrays/system nodes.
    const [n, e] = list.find(([m]) => !/^\((array|system|hidden)\)/.test(h.key(m))) ?? list[0];
    const type = h.eTypes[h.edges[e + h.iEType]];
    const nameOrIndex = h.edges[e + h.iEName];
    const edge = type === 'element' || type === 'hidden' ? `[${nameOrIndex}]` : `.${h.strings[nameOrIndex]}`;
    parts.push(`${edge} ← ${h.key(n)}`);
    seen.add(n);
    at = n;
  }
  return `${h.key(start)} ${parts.join(' ')}`;
}

const before = load(beforeFile);
const after = load(afterFile);
const totals = (h) => [...h.groups.values()].reduce((a, g) => ({ count: a.count + g.count, size: a.size + g.size }), { count: 0, size: 0 });
const tb = totals(before);
const ta = totals(after);
const mb = (b) => (b / 2 ** 20).toFixed(2);
process.stdout.write(`heap: ${mb(tb.size)} MiB in ${tb.count} objects → ${mb(ta.size)} MiB in ${ta.count} objects (${mb(ta.size - tb.size)} MiB)\n\n`);
const rows = [...after.groups.entries()].map(([k, g]) => {
  const b = before.groups.get(k) ?? { count: 0, size: 0 };
  return { k, count: g.count, dCount: g.count - b.count, size: g.size, dSize: g.size - b.size, sample: g.sample };
});
rows.sort((x, y) => y.dSize - x.dSize);
process.stdout.write('Δ self size  Δ count    count  self size  type / constructor\n');
for (const r of rows.slice(0, TOP)) {
  process.stdout.write(`${mb(r.dSize).padStart(10)}  ${String(r.dCount).padStart(7)}  ${String(r.count).padStart(7)}  ${mb(r.size).padStart(9)}  ${r.k}\n`);
}
process.stdout.write('\nretainer paths (sample instance in the second snapshot):\n');
for (const r of rows.slice(0, PATHS)) process.stdout.write(`  ${retainerPath(after, r.sample)}\n`);
for (const name of PATH_FOR) {
  // The newest instances (the end of the snapshot): those the second snapshot added.
  const found = [];
  for (let n = after.count - 1; n >= 0 && found.length < 2; n--) if (after.key(n) === name) found.push(n);
  if (found.length === 0) process.stdout.write(`  ${name}: none in the second snapshot\n`);
  for (const n of found) process.stdout.write(`  ${retainerPath(after, n, 14)}\n`);
}
