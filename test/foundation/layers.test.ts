/**
 * The layer table (layers.config.js) is enforced by `npm run lint`: the rule eslint.config.js assigns to a
 * file of src/ (or web/) rejects an import the table does not allow. Each case lints a small text as if it
 * were a file at that path, with the exact `no-restricted-imports` setting the real configuration gives that
 * path (no type information needed, so this stays fast).
 */
import { readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ESLint, type Linter } from 'eslint';
import tseslint from 'typescript-eslint';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../..');
const project = new ESLint({ cwd: ROOT });

async function layerRuleFor(filePath: string): Promise<Linter.RuleEntry | undefined> {
  const config = (await project.calculateConfigForFile(join(ROOT, filePath))) as Linter.Config | undefined;
  return config?.rules?.['no-restricted-imports'];
}

/** The layer-rule messages for `code` placed at `filePath`. */
async function lintAt(filePath: string, code: string): Promise<string[]> {
  const rule = await layerRuleFor(filePath);
  const eslint = new ESLint({
    cwd: ROOT,
    overrideConfigFile: true,
    overrideConfig: [{ files: ['**/*.ts', '**/*.tsx'], languageOptions: { parser: tseslint.parser }, rules: rule ? { 'no-restricted-imports': rule } : {} }],
  });
  const [result] = await eslint.lintText(code, { filePath: join(ROOT, filePath) });
  return (result?.messages ?? []).map((m) => `${m.ruleId ?? 'parse'}: ${m.message}`);
}

describe('layer rules', () => {
  it('reject an upward import and name the rule', async () => {
    const messages = await lintAt('src/redis/planted.ts', "import { buildApp } from '../http/app.js';\nexport const x = buildApp;\n");
    expect(messages).toHaveLength(1);
    expect(messages[0]).toMatch(/^no-restricted-imports: .*Layer rule \(layers\.config\.js\): src\/redis\/ may import config\/, errors\/, log\//);
  });

  it('accept an allowed import, and the folder’s own modules', async () => {
    expect(await lintAt('src/redis/planted.ts', "import { loadConfig } from '../config/load.js';\nimport { createKeySpace } from './keys.js';\nexport const x = [loadConfig, createKeySpace];\n")).toEqual([]);
  });

  it('hold at every depth below a folder', async () => {
    expect(await lintAt('src/redis/acl/planted.ts', "export { buildApp } from '../../http/app.js';\n")).toHaveLength(1);
    expect(await lintAt('src/http/routes/alerts/planted.ts', "import { buildProgram } from '../../../cli/main.js';\nexport const x = buildProgram;\n")).toHaveLength(1);
    expect(await lintAt('src/redis/acl/planted.ts', "import { createKeySpace } from '../keys.js';\nimport { NaboomError } from '../../errors/catalogue.js';\nexport const x = [createKeySpace, NaboomError];\n")).toEqual([]);
  });

  it('reject type-only imports too, and allow single modules where the table names one', async () => {
    expect(await lintAt('src/config/planted.ts', "import type { KeySpace } from '../redis/keys.js';\nexport type X = KeySpace;\n")).toHaveLength(1);
    expect(await lintAt('src/queue/planted.ts', "import type { VerifyContext } from '../verify/run.js';\nexport type X = VerifyContext;\n")).toHaveLength(1);
    expect(await lintAt('src/queue/planted.ts', "import type { VerifyContext } from '../verify/types.js';\nexport type X = VerifyContext;\n")).toEqual([]);
    expect(await lintAt('src/alerts/planted.ts', "import { Deque } from '../channels/waiters.js';\nexport const x = Deque;\n")).toEqual([]);
    expect(await lintAt('src/alerts/planted.ts', "import { ChannelLayer } from '../channels/layer.js';\nexport const x = ChannelLayer;\n")).toHaveLength(1);
  });

  it('exempt colocated tests', async () => {
    expect(await lintAt('src/redis/planted.test.ts', "import { toNaboomError } from '../http/errors.js';\nexport const x = toNaboomError;\n")).toEqual([]);
  });

  it('let web/ take only types from src/', async () => {
    expect(await lintAt('web/src/planted.ts', "import type { AlertDoc } from '../../src/alerts/model.js';\nexport type X = AlertDoc;\n")).toEqual([]);
    const runtime = await lintAt('web/src/components/planted.tsx', "import { ALERT_EVENTS } from '../../../src/alerts/model.js';\nexport const x = ALERT_EVENTS;\n");
    expect(runtime).toHaveLength(1);
    expect(runtime[0]).toMatch(/web\/ may import only types from src\//);
  });

  it('cover every folder of src/', async () => {
    const folders = readdirSync(join(ROOT, 'src'), { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name);
    const missing: string[] = [];
    for (const folder of folders) if (!(await layerRuleFor(`src/${folder}/planted.ts`))) missing.push(folder);
    expect(missing).toEqual([]);
  });
});

describe('ARCHITECTURE.md layer table', () => {
  it('lists every folder of layers.config.js with exactly the imports the rule allows', async () => {
    const { SRC_LAYERS } = (await import(join(ROOT, 'layers.config.js'))) as { SRC_LAYERS: Record<string, string[]> };
    const { readFileSync } = await import('node:fs');
    const doc = readFileSync(join(ROOT, 'ARCHITECTURE.md'), 'utf8');
    const rows = new Map<string, string>();
    for (const m of doc.matchAll(/^\| `([a-z]+)\/` \| .* \| ([^|]+) \|$/gm)) rows.set(m[1]!, m[2]!);
    for (const [folder, allowed] of Object.entries(SRC_LAYERS)) {
      const cell = rows.get(folder);
      expect(cell, `ARCHITECTURE.md has no row for ${folder}/`).toBeDefined();
      // Rows of the upper layers say "everything …"; the others name each folder or module they may import.
      if (/^everything/.test(cell!.trim())) continue;
      const named = [...cell!.matchAll(/`([a-z]+(?:\/[a-z-]+)?)\/?`/g)].map((x) => x[1]!).sort();
      expect(named, `the imports ARCHITECTURE.md gives ${folder}/`).toEqual([...allowed].sort());
    }
  });
});
