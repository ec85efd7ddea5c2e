// WebRTC and browser tests (node-datachannel, Chromium). Run only inside the loopback-only
// network namespace: `../../scripts/netns-run.sh vitest run -c vitest.webrtc.config.ts`
// (the package's `test` script does this after the unit run).
import { peerfetchProject } from '../../vitest.shared.js';

const config = peerfetchProject(
  import.meta.dirname,
  {
    test: {
      // Each file gets its own process: node-datachannel's cleanup() is once per process.
      pool: 'forks',
      fileParallelism: false,
      testTimeout: 60_000,
      hookTimeout: 60_000,
    },
  },
  'crypto-webrtc',
);
// Replace (not extend: mergeConfig concatenates arrays) the shared include list.
config.test = { ...config.test, include: ['test/webrtc/**/*.spec.ts'] };

export default config;
