// One lint config for the whole workspace (ESLint flat config).
// - typescript-eslint, type-aware: promise and switch-exhaustiveness rules are errors.
// - Nx module boundaries: apps import libs; libs never import apps.
// - Browser entry points of the shared libs may not touch Node built-ins or Node globals.
import { builtinModules } from 'node:module';
import js from '@eslint/js';
import globals from 'globals';
import nx from '@nx/eslint-plugin';
import prettier from 'eslint-config-prettier';
import tseslint from 'typescript-eslint';
import vue from 'eslint-plugin-vue';
import vueParser from 'vue-eslint-parser';

const nodeBuiltins = [...builtinModules, ...builtinModules.map((m) => `node:${m}`)];

export default tseslint.config(
  {
    ignores: [
      '**/dist/**',
      '**/node_modules/**',
      '**/.nx/**',
      '**/coverage/**',
      'artifacts/**',
      '**/*.d.ts',
      '**/generated/**',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  ...vue.configs['flat/recommended'].map((c) => ({ ...c, files: ['apps/console/**/*.vue'] })),
  {
    languageOptions: {
      parserOptions: {
        projectService: true,
        tsconfigRootDir: import.meta.dirname,
        extraFileExtensions: ['.vue'],
      },
    },
  },
  {
    files: ['apps/console/**/*.vue'],
    languageOptions: {
      parser: vueParser,
      parserOptions: { parser: tseslint.parser, sourceType: 'module' },
    },
  },
  {
    files: ['**/*.ts', '**/*.vue'],
    plugins: { '@nx': nx },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/switch-exhaustiveness-check': [
        'error',
        { considerDefaultExhaustiveForUnions: true },
      ],
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_' },
      ],
      '@nx/enforce-module-boundaries': [
        'error',
        {
          enforceBuildableLibDependency: false,
          allow: [],
          depConstraints: [
            { sourceTag: 'type:lib', onlyDependOnLibsWithTags: ['type:lib'] },
            { sourceTag: 'type:app', onlyDependOnLibsWithTags: ['type:lib'] },
            { sourceTag: 'scope:shared', onlyDependOnLibsWithTags: ['scope:shared'] },
          ],
        },
      ],
    },
  },
  {
    // Tool configs import the shared workspace settings (vitest.shared.ts) by path.
    files: ['**/*.config.ts'],
    rules: { '@nx/enforce-module-boundaries': 'off' },
  },
  {
    // Browser-safe entry points: no Node built-ins, no Node globals.
    files: ['libs/peer-http/src/**/*.ts', 'libs/crypto/src/**/*.ts'],
    ignores: ['libs/*/src/node/**', 'libs/*/src/**/*.spec.ts', 'libs/*/src/**/*.test.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: nodeBuiltins.map((name) => ({
            name,
            message: 'Browser entry point: Node built-ins are only allowed under src/node/.',
          })),
          patterns: [
            {
              group: ['node:*'],
              message: 'Browser entry point: Node built-ins are only allowed under src/node/.',
            },
            {
              group: ['node-datachannel', 'node-datachannel/*'],
              message: 'Browser entry point: node-datachannel is only allowed under src/node/.',
            },
          ],
        },
      ],
      'no-restricted-globals': [
        'error',
        { name: 'Buffer', message: 'Use Uint8Array: this code runs in browsers.' },
        { name: 'process', message: 'No process in browser code.' },
        { name: 'require', message: 'ES modules only.' },
        { name: '__dirname', message: 'No __dirname in browser code.' },
      ],
    },
  },
  {
    files: ['**/*.{js,mjs,cjs}'],
    ...tseslint.configs.disableTypeChecked,
    languageOptions: {
      ...tseslint.configs.disableTypeChecked.languageOptions,
      globals: globals.node,
    },
  },
  prettier,
);
