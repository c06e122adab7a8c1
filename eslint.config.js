import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import { SRC_LAYERS } from './layers.config.js';

/** Deepest sub-folder level below a folder of src/ (or below web/) that the layer rules cover. */
const MAX_DEPTH = 6;
const escape = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * One `no-restricted-imports` block per folder of src/ and per depth below it, generated from the one table
 * in layers.config.js. Imports are relative, so a depth fixes how many `../` reach src/: the rule forbids
 * every path that climbs exactly to src/ and does not continue into an allowed folder or module.
 */
export function layerRules() {
  const blocks = [];
  for (const [folder, allowed] of Object.entries(SRC_LAYERS)) {
    const alternatives = [folder, ...allowed].map((a) => (a.includes('/') ? `${escape(a)}\\.js$` : `${escape(a)}(?:/|$)`));
    const message = `Layer rule (layers.config.js): src/${folder}/ may import ${allowed.length ? allowed.map((a) => (a.includes('/') ? `${a}.ts` : `${a}/`)).join(', ') : 'nothing else in src/'}.`;
    for (let depth = 0; depth < MAX_DEPTH; depth++) {
      blocks.push({
        files: [`src/${folder}/${'*/'.repeat(depth)}*.ts`],
        ignores: ['**/*.test.ts'],
        rules: {
          'no-restricted-imports': ['error', { patterns: [{ regex: `^(?:\\.\\./){${depth + 1}}(?!\\.\\./)(?!${alternatives.join('|')})`, message }] }],
        },
      });
    }
  }
  // The dashboard runs in the browser and talks to the server over HTTP: from src/ it may take types only.
  for (let depth = 0; depth < MAX_DEPTH; depth++) {
    blocks.push({
      files: [`web/${'*/'.repeat(depth)}*.{ts,tsx}`],
      rules: {
        'no-restricted-imports': ['error', {
          patterns: [{
            regex: `^(?:\\.\\./){${depth + 1}}src(?:/|$)`,
            allowTypeImports: true,
            message: 'Layer rule (layers.config.js): web/ may import only types from src/ (`import type`); it reaches the server over HTTP.',
          }],
        }],
      },
    });
  }
  return blocks;
}

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'coverage/**', 'web/dist/**', 'test-artifacts/**', '.naboom/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: { arguments: false } }],
      '@typescript-eslint/switch-exhaustiveness-check': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/require-await': 'off',
    },
  },
  ...layerRules(),
  {
    files: ['**/*.js', '**/*.mjs'],
    ...tseslint.configs.disableTypeChecked,
    languageOptions: {
      ...tseslint.configs.disableTypeChecked.languageOptions,
      globals: { process: 'readonly', console: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly', setInterval: 'readonly', clearInterval: 'readonly', URL: 'readonly', Buffer: 'readonly', fetch: 'readonly', performance: 'readonly', AbortController: 'readonly', TextDecoder: 'readonly' },
    },
  },
  {
    files: ['test/**/*.ts', 'bench/**/*.ts', 'src/**/*.test.ts'],
    rules: {
      '@typescript-eslint/no-non-null-assertion': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
    },
  },
);
