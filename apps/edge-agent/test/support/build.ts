// Builds the agent (tsc, the production tsconfig) into .test-build/ so process tests run
// `node dist/cli.js …` exactly as the container does, without racing the Nx build target.
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';

export const PROJECT_DIR = join(import.meta.dirname, '..', '..');
export const BUILD_DIR = join(PROJECT_DIR, '.test-build');
export const CLI = join(BUILD_DIR, 'dist', 'cli.js');

export function buildAgent(): string {
  mkdirSync(BUILD_DIR, { recursive: true });
  copyFileSync(join(PROJECT_DIR, 'package.json'), join(BUILD_DIR, 'package.json'));
  execFileSync(
    join(PROJECT_DIR, '..', '..', 'node_modules', '.bin', 'tsc'),
    [
      '-p',
      'tsconfig.lib.json',
      '--outDir',
      join(BUILD_DIR, 'dist'),
      '--tsBuildInfoFile',
      join(BUILD_DIR, 'tsbuildinfo'),
    ],
    { cwd: PROJECT_DIR, stdio: 'pipe' },
  );
  return CLI;
}
