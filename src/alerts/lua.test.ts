import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { headerProblems } from '../redis/script-header.js';
import { INGEST } from './ingest.js';
import { CLAIM, ESCALATE, LOCATE, NOTE, TRANSITION } from './lifecycle.js';
import { POST_MESSAGE } from './thread.js';

const SCRIPTS = [INGEST, TRANSITION, ESCALATE, CLAIM, POST_MESSAGE, LOCATE, NOTE];

describe('alert scripts', () => {
  it.each(SCRIPTS.map((s) => [s.name, s] as const))('%s: the header names exactly the declared KEYS and ARGV, in order', (_name, script) => {
    expect(headerProblems(script)).toEqual([]);
  });

  it('every script file in lua/ is declared', () => {
    const files = readdirSync(fileURLToPath(new URL('./lua/', import.meta.url))).filter((f) => f.endsWith('.lua'));
    expect(files.sort()).toEqual(SCRIPTS.map((s) => fileURLToPath(s.file).split('/').pop()).sort());
  });

  it('no script names a feed event itself: each is passed in from ALERT_EVENTS', () => {
    for (const s of SCRIPTS) expect(s.source).not.toMatch(/'alert\.(created|raised|updated|escalated|message)'/);
  });

  it('ingest: fixed keys and args first, then each alert, its idempotency key only when it has one', () => {
    const item = (n: number, idempotency?: string) => ({
      keys: { stream: `s${n}`, reporterIndex: `r${n}`, idempotency },
      args: { doc: `{}`, severity: 'high', escalateAt: 2, created: 1, alertType: 'panic', reporter: `u${n}`, lat: -n, lon: n, fingerprint: idempotency ? 'fp' : '', fields: ['type', 'panic'] },
    });
    const args = {
      maxlen: 10,
      stateTtl: 1,
      cacheTtl: 2,
      idempotencyTtl: 3,
      statePrefix: 'st:',
      cachePrefix: 'c:',
      broadcastChannel: 'b',
      raisedEvent: 'alert.raised',
      relatedRadius: 300,
      relatedWindow: 600_000,
      relatedScan: 200,
      relatedLinks: 3,
      maxRelated: 50,
      recentKeep: 1000,
      nowIso: 'now',
    };
    const ordered = INGEST.order({ keys: { feed: 'f', schedule: 'z', recent: 'rc' }, args, items: [item(1), item(2, 'i2')] });
    expect(ordered.keys).toEqual(['f', 'z', 'rc', 's1', 'r1', 's2', 'r2', 'i2']);
    const fixed = [10, 1, 2, 3, 'st:', 'c:', 'b', 'alert.raised', 300, 600_000, 200, 3, 50, 1000, 'now'];
    expect(ordered.args).toEqual([...fixed, '{}', 'high', 2, 1, 'panic', 'u1', -1, 1, '', 2, 'type', 'panic', '{}', 'high', 2, 1, 'panic', 'u2', -2, 2, 'fp', 2, 'type', 'panic']);
  });
});
