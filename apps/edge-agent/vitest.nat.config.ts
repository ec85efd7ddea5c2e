// NAT traversal tests: they build their own network namespaces (test/nat/netlab.ts), so
// they run as root in the root namespace, NOT through scripts/netns-run.sh.
import { peerfetchProject } from '../../vitest.shared.js';

const config = peerfetchProject(
  import.meta.dirname,
  {
    test: {
      pool: 'forks',
      fileParallelism: false,
      testTimeout: 120_000,
      hookTimeout: 120_000,
    },
  },
  'edge-agent-nat',
);
config.test = { ...config.test, include: ['test/nat/**/*.spec.ts'] };

export default config;
