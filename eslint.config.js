import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import svelte from 'eslint-plugin-svelte';
import globals from 'globals';

export default tseslint.config(
  { ignores: ['**/node_modules/**', '**/dist/**', 'bench/results/**', 'soak/results/**', '.stryker-tmp/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  ...svelte.configs['flat/recommended'],
  {
    languageOptions: { globals: { ...globals.browser, ...globals.node } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-console': ['error', { allow: ['warn', 'error'] }],
    },
  },
  {
    files: ['**/*.svelte', '**/*.svelte.ts'],
    languageOptions: { parserOptions: { parser: tseslint.parser } },
  },
  {
    // packages/ is isomorphic: WebCrypto and the standard library only, no Node or DOM APIs
    // (but the terminal client, which is Node's by nature).
    files: ['packages/*/src/**/*.ts'],
    ignores: ['packages/cli/**'],
    rules: {
      'no-restricted-imports': ['error', { paths: ['fs', 'crypto', 'buffer', 'path'], patterns: ['node:*'] }],
      'no-restricted-globals': ['error', 'Buffer', 'process', 'window', 'document', 'require'],
    },
  },
  {
    files: ['scripts/**', 'bench/**', 'soak/**', 'e2e/**'],
    rules: { 'no-console': 'off' },
  },
);
