#!/usr/bin/env node
// `npm start`: builds the workspace and brings the system up on embedded defaults, with no
// external services. Ctrl-C (SIGINT) or SIGTERM stops every child cleanly.
//
// Today it starts what exists: the console (static build served by Vite's preview server).
// The registrar (embedded PostgreSQL + in-process broker) and a demo agent join as they land.
import { spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';

const root = join(import.meta.dirname, '..');
const env = { ...process.env, CHECKPOINT_DISABLE: '1', NX_NO_CLOUD: 'true', NX_DAEMON: 'false' };

console.log('peerfetch: building the workspace…');
const build = spawnSync('npx', ['nx', 'run-many', '-t', 'build', '--outputStyle=static'], {
  cwd: root,
  env,
  stdio: 'inherit',
});
if (build.status !== 0) {
  console.error('peerfetch: build failed; nothing started.');
  process.exit(build.status ?? 1);
}

const consolePort = process.env.PEERFETCH_CONSOLE_PORT ?? '8780';
const services = [
  {
    name: 'console',
    cmd: 'npx',
    args: ['vite', 'preview', '--host', '127.0.0.1', '--port', consolePort, '--strictPort'],
    cwd: join(root, 'apps/console'),
  },
];

const children = services.map((s) => {
  const child = spawn(s.cmd, s.args, { cwd: s.cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
  const prefix = `[${s.name}] `;
  child.stdout.on('data', (d) =>
    process.stdout.write(prefix + d.toString().replace(/\n(?!$)/g, `\n${prefix}`)),
  );
  child.stderr.on('data', (d) =>
    process.stderr.write(prefix + d.toString().replace(/\n(?!$)/g, `\n${prefix}`)),
  );
  child.on('exit', (code, signal) => {
    console.log(`peerfetch: ${s.name} exited (${signal ?? code})`);
    if (!stopping) stop(1);
  });
  return child;
});

console.log(`\npeerfetch is up. Open http://127.0.0.1:${consolePort}/  (Ctrl-C to stop)\n`);

let stopping = false;
function stop(code = 0) {
  if (stopping) return;
  stopping = true;
  for (const c of children) if (c.exitCode === null) c.kill('SIGTERM');
  setTimeout(() => process.exit(code), 5000).unref();
  Promise.all(
    children.map((c) => (c.exitCode === null ? new Promise((r) => c.on('exit', r)) : null)),
  ).then(() => process.exit(code));
}
process.on('SIGINT', () => stop(0));
process.on('SIGTERM', () => stop(0));
