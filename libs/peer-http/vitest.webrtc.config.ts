// WebRTC and browser tests (node-datachannel, Chromium). Run only inside the loopback-only
// network namespace: `../../scripts/netns-run.sh vitest run -c vitest.webrtc.config.ts`
// (the package's `test` script does this after the plain unit/integration run).
import { peerfetchProject } from '../../vitest.shared.js';

const config = peerfetchProject(
  import.meta.dirname,
  {
    test: {
      // Each file gets its own process: node-datachannel's cleanup() is once per process.
      pool: 'forks',
      // Two shared cores: one WebRTC file at a time keeps transfers from starving each other.
      fileParallelism: false,
      testTimeout: 60_000,
      hookTimeout: 60_000,
    },
  },
  'peer-http-webrtc',
);
// Replace (not extend: mergeConfig concatenates arrays) the shared include list.
config.test = { ...config.test, include: ['test/webrtc/**/*.spec.ts'] };

export default config;
