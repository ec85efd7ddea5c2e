// Shared Vitest settings for every project in the workspace.
//
// - Resolves workspace packages to their TypeScript sources (`@peerfetch/source` condition),
//   so tests never depend on a stale build.
// - When PEERFETCH_TEST_REPORT_DIR is set (by `npm test`), each run also writes a JSON
//   report there; scripts/test.mjs adds them up into one closing line.
import { basename } from 'node:path';
import { defineProject, mergeConfig, type UserWorkspaceConfig } from 'vitest/config';

export function peerfetchProject(
  projectDir: string,
  config: UserWorkspaceConfig = {},
  reportName = basename(projectDir),
): UserWorkspaceConfig {
  const reportDir = process.env['PEERFETCH_TEST_REPORT_DIR'];
  const base: UserWorkspaceConfig = defineProject({
    resolve: { conditions: ['@peerfetch/source'] },
    ssr: { resolve: { conditions: ['@peerfetch/source'] } },
    test: {
      root: projectDir,
      include: ['src/**/*.spec.ts', 'test/**/*.spec.ts'],
      ...(reportDir
        ? {
            reporters: ['default', 'json'],
            outputFile: { json: `${reportDir}/${reportName}.json` },
          }
        : {}),
    },
  });
  return mergeConfig(base, config);
}
