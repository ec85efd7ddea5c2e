// Registrar lint: the workspace config, rebased onto this directory, plus one relaxation:
// integration tests read untyped JSON responses, so the no-unsafe-* family is off under
// test/ (application code keeps every rule).
import root from '../../eslint.config.mjs';

const PREFIX = 'apps/registrar/';
const rebase = (pattern) =>
  typeof pattern === 'string' && pattern.startsWith(PREFIX)
    ? pattern.slice(PREFIX.length)
    : pattern;

export default [
  ...root.map((config) => (config.files ? { ...config, files: config.files.map(rebase) } : config)),
  {
    files: ['test/**/*.ts'],
    rules: {
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
    },
  },
  {
    files: ['**/*.{js,mjs,cjs}'],
    languageOptions: { parserOptions: { projectService: false, project: false } },
  },
];
