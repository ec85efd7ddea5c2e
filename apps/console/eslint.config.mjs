// Console lint: the workspace config, rebased onto this directory, plus the platform seam.
// Browser host APIs (storage, network, WebRTC, clipboard, media queries) are reached only
// through src/platform/ so that tests and other hosts can substitute them.
import root from '../../eslint.config.mjs';

const PREFIX = 'apps/console/';
const rebase = (pattern) =>
  typeof pattern === 'string' && pattern.startsWith(PREFIX)
    ? pattern.slice(PREFIX.length)
    : pattern;

const seamMessage = 'Use the platform seam (src/platform/, usePlatform() or the services).';
const restrictedGlobals = [
  'localStorage',
  'sessionStorage',
  'indexedDB',
  'fetch',
  'XMLHttpRequest',
  'WebSocket',
  'EventSource',
  'RTCPeerConnection',
  'navigator',
  'matchMedia',
].map((name) => ({ name, message: `${name}: ${seamMessage}` }));
const restrictedProperties = ['window', 'globalThis', 'self'].flatMap((object) =>
  restrictedGlobals.map(({ name }) => ({ object, property: name, message: seamMessage })),
);

export default [
  ...root.map((config) => (config.files ? { ...config, files: config.files.map(rebase) } : config)),
  {
    files: ['**/*.ts', '**/*.vue'],
    // test/e2e: code evaluated in a test page (not the app) and the test's Node side
    ignores: ['src/platform/**', 'scripts/**', '*.config.ts', 'test/e2e/**'],
    rules: {
      'no-restricted-globals': ['error', ...restrictedGlobals],
      'no-restricted-properties': ['error', ...restrictedProperties],
    },
  },
  {
    // The end-to-end tests run the REAL edge agent's answerer, router and clips handler in
    // the test process (no app code ships in the console bundle): an app → app import that
    // the workspace boundaries forbid everywhere else. The system benchmark starts the real
    // registrar and agent the same way.
    files: ['test/e2e/**/*.ts', 'scripts/system-bench.ts'],
    rules: { '@nx/enforce-module-boundaries': 'off' },
  },
  {
    // The root config's JS block replaces disableTypeChecked's languageOptions with its
    // globals, so plain JS files would still be parsed type-aware; switch that off here.
    files: ['**/*.{js,mjs,cjs}'],
    languageOptions: { parserOptions: { projectService: false, project: false } },
  },
];
