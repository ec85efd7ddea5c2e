#!/usr/bin/env node
// Runs the whole test suite: workspace rules, then every project's `test` target (unit,
// integration against real PostgreSQL/Mosquitto, WebRTC and browser end-to-end), and ends
// with one closing line "N passed, N failed, N skipped". Exits non-zero on any failure, or
// if no test ran at all.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';

const root = join(import.meta.dirname, '..');
const reportDir = join(root, 'artifacts', 'test-results');
rmSync(reportDir, { recursive: true, force: true });
mkdirSync(reportDir, { recursive: true });

const env = {
  ...process.env,
  PEERFETCH_TEST_REPORT_DIR: reportDir,
  CHECKPOINT_DISABLE: '1',
  NX_NO_CLOUD: 'true',
  NX_DAEMON: 'false',
};

function run(cmd, args) {
  console.log(`\n$ ${cmd} ${args.join(' ')}`);
  const result = spawnSync(cmd, args, { cwd: root, env, stdio: 'inherit' });
  return result.status === 0;
}

const parallel = process.env.PEERFETCH_TEST_PARALLEL ?? '1';
const extra = process.argv.slice(2);
const ok = [
  run('npx', ['vitest', 'run', '--config', 'scripts/vitest.config.ts']),
  run('npx', [
    'nx',
    'run-many',
    '-t',
    'test',
    '--outputStyle=stream',
    `--parallel=${parallel}`,
    '--skipNxCache',
    ...extra,
  ]),
].every(Boolean);

let passed = 0;
let failed = 0;
let skipped = 0;
const skippedNames = [];
const failures = [];
/** The first lines of an error, enough to see why in a log that keeps only its tail. */
const firstLines = (text) => String(text).split('\n').slice(0, 6).join('\n      ');
const reports = existsSync(reportDir)
  ? readdirSync(reportDir).filter((f) => f.endsWith('.json'))
  : [];
for (const file of reports) {
  const report = JSON.parse(readFileSync(join(reportDir, file), 'utf8'));
  passed += report.numPassedTests ?? 0;
  failed += report.numFailedTests ?? 0;
  skipped += (report.numPendingTests ?? 0) + (report.numTodoTests ?? 0);
  const project = file.replace(/\.json$/, '');
  for (const suite of report.testResults ?? []) {
    // a file that failed outside any test (a hook, an import) reports its tests as skipped;
    // it counts as one failure itself
    if (suite.status === 'failed' && suite.message) {
      if (!(suite.assertionResults ?? []).some((t) => t.status === 'failed')) failed += 1;
      failures.push(`${project}: ${suite.name}\n      ${firstLines(suite.message)}`);
    }
    for (const test of suite.assertionResults ?? []) {
      if (test.status === 'pending' || test.status === 'skipped' || test.status === 'todo') {
        skippedNames.push(`${project}: ${test.fullName}`);
      }
      if (test.status === 'failed') {
        failures.push(
          `${project}: ${test.fullName}\n      ${firstLines(test.failureMessages?.[0] ?? '')}`,
        );
      }
    }
  }
}

console.log(`\nTest reports: ${reports.map((f) => f.replace(/\.json$/, '')).join(', ')}`);
if (skippedNames.length > 0) {
  console.log('Skipped tests (each must say why in its own output):');
  for (const name of skippedNames) console.log(`  - ${name}`);
}
if (failures.length > 0) {
  console.log('Failures:');
  for (const failure of failures) console.log(`  - ${failure}`);
}
console.log(`${passed} passed, ${failed} failed, ${skipped} skipped`);

if (!ok || failed > 0) process.exit(1);
if (passed === 0) {
  console.error('No test ran: that is a failure.');
  process.exit(1);
}
