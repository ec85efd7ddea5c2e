import { peerfetchProject } from '../../vitest.shared.js';

// Process and broker tests spawn Node and Mosquitto on a shared 2-core machine: generous
// upper bounds (hang detection, not performance thresholds).
export default peerfetchProject(import.meta.dirname, {
  test: { testTimeout: 120_000, hookTimeout: 180_000 },
});
