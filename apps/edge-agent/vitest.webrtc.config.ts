// WebRTC tests (node-datachannel). Run only inside the loopback-only network namespace:
// `../../scripts/netns-run.sh vitest run -c vitest.webrtc.config.ts` (the `test` script
// does this after the plain run).
import { peerfetchProject } from '../../vitest.shared.js';

const config = peerfetchProject(
  import.meta.dirname,
  {
    test: {
      // node-datachannel's cleanup() is once per process: one process per file
      pool: 'forks',
      fileParallelism: false,
      testTimeout: 120_000,
      hookTimeout: 180_000,
    },
  },
  'edge-agent-webrtc',
);
config.test = { ...config.test, include: ['test/webrtc/**/*.spec.ts'] };

export default config;
