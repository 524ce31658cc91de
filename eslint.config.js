// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import { importX } from 'eslint-plugin-import-x';
import { createTypeScriptImportResolver } from 'eslint-import-resolver-typescript';

// A module is used through its index.ts: no deep imports across module folders.
const MODULE_BOUNDARY = {
  regex:
    '^(\\.\\.?/)+(src/)?(config|domain|platform|lake|stream|ingest|speed|batch|jobs|mdm|ml|metrics|logging|graphql|cli)/(?!index\\.js$).+',
  message: 'Import another module through its index.js (its public surface).',
};

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'data/**', '.services/**', 'web/vendor/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  importX.flatConfigs.typescript,
  {
    files: ['**/*.ts'],
    plugins: { 'import-x': importX },
    languageOptions: { parserOptions: { projectService: false } },
    settings: {
      'import-x/resolver-next': [createTypeScriptImportResolver({ project: './tsconfig.json' })],
    },
    rules: {
      'import-x/no-cycle': ['error', { ignoreExternal: true }],
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_' },
      ],
      '@typescript-eslint/consistent-type-imports': 'error',
      'no-console': 'off',
      'no-restricted-imports': [
        'error',
        {
          patterns: [MODULE_BOUNDARY],
        },
      ],
    },
  },
  {
    // The lake's phases (storage → log → data → read → maintenance) are sub-modules too:
    // across them, only through each one's index.js.
    files: ['src/lake/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            MODULE_BOUNDARY,
            {
              regex: '^\\.\\.?/(storage|log|data|read|maintenance)/(?!index\\.js$).+',
              message: 'Import another phase of the lake through its index.js.',
            },
          ],
        },
      ],
    },
  },
);
