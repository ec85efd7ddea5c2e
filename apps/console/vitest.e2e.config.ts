// End-to-end tests in Chromium against a real edge-agent answerer (node-datachannel). Run
// only inside the loopback-only network namespace:
// `../../scripts/netns-run.sh vitest run -c vitest.e2e.config.ts` (the `test` script does).
import { peerfetchProject } from '../../vitest.shared.js';

const config = peerfetchProject(
  import.meta.dirname,
  {
    test: {
      environment: 'node',
      // node-datachannel's cleanup() is once per process: one process per file
      pool: 'forks',
      fileParallelism: false,
      testTimeout: 90_000,
      hookTimeout: 120_000,
    },
  },
  'console-e2e',
);
config.test = { ...config.test, include: ['test/e2e/**/*.spec.ts'] };

export default config;
