#!/usr/bin/env node
// `npm run generate`: writes the Prisma client to src/generated/prisma (offline, WebAssembly
// engine; see docs/operations.md). Build, typecheck, lint and test all run it first, and Nx
// runs those in parallel, so it is serialized with a lock and skipped when the schema and
// the Prisma version are unchanged since the last generation.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';

const app = join(import.meta.dirname, '..');
const schema = join(app, '../../prisma/schema.prisma');
const out = join(app, 'src/generated/prisma');
const stamp = join(out, '.schema-hash');
const lock = join(app, 'src/generated/.lock');

const prismaVersion = createRequire(import.meta.url)('prisma/package.json').version;
const hash = createHash('sha256').update(readFileSync(schema)).update(prismaVersion).digest('hex');
const fresh = () => existsSync(stamp) && readFileSync(stamp, 'utf8') === hash;

if (fresh()) process.exit(0);

mkdirSync(join(app, 'src/generated'), { recursive: true });
const deadline = Date.now() + 120_000;
for (;;) {
  try {
    mkdirSync(lock);
    break;
  } catch (error) {
    if (error.code !== 'EEXIST') throw error;
    // A lock older than two minutes belongs to a process that died.
    if (Date.now() - statSync(lock, { throwIfNoEntry: false })?.mtimeMs > 120_000) {
      rmSync(lock, { recursive: true, force: true });
      continue;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${lock}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
try {
  if (!fresh()) {
    rmSync(out, { recursive: true, force: true });
    const r = spawnSync('npx', ['prisma', 'generate', '--no-hints'], {
      cwd: app,
      stdio: 'inherit',
      env: { ...process.env, CHECKPOINT_DISABLE: '1' },
    });
    if (r.status !== 0) process.exit(r.status ?? 1);
    // The workspace's `prettier --check .` does not read this folder's .gitignore: format the
    // generated client so the check passes (until the root .prettierignore lists generated/).
    // (Run from the workspace root: this folder's .gitignore would make Prettier skip it.)
    const f = spawnSync('npx', ['prettier', '--write', '--log-level', 'warn', out], {
      cwd: join(app, '../..'),
      stdio: 'inherit',
    });
    if (f.status !== 0) process.exit(f.status ?? 1);
    writeFileSync(stamp, hash);
  }
} finally {
  rmSync(lock, { recursive: true, force: true });
}
