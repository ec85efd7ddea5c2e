// System tests against the real registrar (test/system). Run only inside the loopback-only
// network namespace: `../../scripts/netns-run.sh vitest run -c vitest.system.config.ts`
// (the `test` script's last step). Needs apps/registrar/dist (Nx builds it first through
// the project's implicit dependency on @peerfetch/registrar) and PostgreSQL's unix socket.
import { peerfetchProject } from '../../vitest.shared.js';

const config = peerfetchProject(
  import.meta.dirname,
  {
    test: {
      // node-datachannel's cleanup() is once per process: one process per file
      pool: 'forks',
      fileParallelism: false,
      // tests in a file share one registrar + agent and run in order
      sequence: { concurrent: false },
      testTimeout: 180_000,
      hookTimeout: 180_000,
    },
  },
  'edge-agent-system',
);
config.test = { ...config.test, include: ['test/system/**/*.spec.ts'] };

export default config;
