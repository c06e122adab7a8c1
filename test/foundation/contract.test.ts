/** docs/contract.md names every variable the configuration schema reads, and cites nothing outside the repository. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { settingsSchema } from '../../src/config/schema.js';

const contract = readFileSync(new URL('../../docs/contract.md', import.meta.url), 'utf8');
const section = (n: number): string => contract.slice(contract.indexOf(`\n## ${n}. `), contract.indexOf(`\n## ${n + 1}. `));

describe('docs/contract.md', () => {
  it('§2 names every configuration variable', () => {
    const variables = Object.keys(settingsSchema.shape);
    const s2 = section(2);
    expect(variables.filter((v) => !new RegExp(`\\b${v}\\b`).test(s2))).toEqual([]);
    for (const v of ['SECRET_KEY', 'METRICS_TOKEN', 'NOTIFY_WEBHOOK_SECRET', 'REDIS_MASTER_PASSWORD', '*_PASSWORD_FILE']) expect(s2).toContain(v);
  });

  it('keeps its numbered sections and refers to nothing outside the repository', () => {
    for (let n = 1; n <= 8; n++) expect(contract).toContain(`\n## ${n}. `);
    expect(contract).toContain('\n### 4.1 `emergency:broadcast`');
    expect(contract).not.toMatch(/shared\/|SPEC\.md/);
  });
});
