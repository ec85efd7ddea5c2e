import { peerfetchProject } from '../vitest.shared.js';

// Workspace-level tests: lint rules and repository conventions.
export default peerfetchProject(
  import.meta.dirname,
  { test: { include: ['*.spec.ts'] } },
  'workspace',
);
