// Writes the published JSON Schemas generated from their zod sources (run by `npm run docs:schemas`, which
// compiles src/ to dist/ first): docs/live-protocol.schema.json from the live protocol's union.
// A test fails while a committed file differs from what this writes.
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { liveProtocolSchemaText } from '../dist/http/live/protocol.js';

const out = fileURLToPath(new URL('../docs/live-protocol.schema.json', import.meta.url));
writeFileSync(out, liveProtocolSchemaText());
process.stdout.write(`wrote ${out}\n`);
