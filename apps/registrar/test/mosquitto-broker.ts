// A private Mosquitto for one test file: the machine's `mosquitto` binary with the Dynamic
// Security plugin, on a free loopback port, with its own config and dynsec file in a temp
// directory (the shared system broker is never reconfigured). Fails — never skips — when
// the binary or the plugin is missing.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { createServer, connect as tcpConnect } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const PLUGIN = 'mosquitto_dynamic_security.so';

/** The plugin's path: from the Debian package's file list, else a search of the usual dirs. */
export async function findDynsecPlugin(): Promise<string> {
  try {
    const { stdout } = await run('dpkg', ['-L', 'mosquitto']);
    const found = stdout.split('\n').find((l) => l.endsWith(`/${PLUGIN}`) && existsSync(l));
    if (found) return found;
  } catch {
    // not a Debian system (or no package): look in the usual places
  }
  const candidates = ['/usr/lib', '/usr/local/lib', '/usr/lib64'].flatMap((base) => {
    const direct = join(base, PLUGIN);
    let nested: string[] = [];
    try {
      nested = readdirSync(base).map((d) => join(base, d, PLUGIN));
    } catch {
      nested = [];
    }
    return [direct, ...nested];
  });
  const found = candidates.find((p) => existsSync(p));
  if (!found) {
    throw new Error(
      `Mosquitto's dynamic-security plugin (${PLUGIN}) not found (dpkg -L mosquitto, ` +
        '/usr/lib/*/, /usr/local/lib): install the Debian package `mosquitto` (2.0+)',
    );
  }
  return found;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  if (!address || typeof address === 'string') throw new Error('no port');
  return address.port;
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = tcpConnect({ host: '127.0.0.1', port }, () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

export interface DynsecBroker {
  url: string;
  port: number;
  admin: { username: string; password: string };
  /** The plugin's JSON file (edited only while the broker is stopped). */
  dynsecFile: string;
  /** The running process's pid (undefined while stopped). */
  pid(): number | undefined;
  /** Starts (or restarts) the process on the same port and dynsec file. */
  start(): Promise<void>;
  /** SIGTERM, and waits for the exit (SIGKILL if it takes long). */
  stop(): Promise<void>;
  /** SIGKILL: a crash (no last wills published, connections just drop). */
  kill(): Promise<void>;
  /** SIGSTOP / SIGCONT: a broker that still holds its connections but answers nothing. */
  pause(): void;
  resume(): void;
  /** What the broker printed (for failure messages). */
  log(): string;
}

/**
 * Initialises a dynsec file with one admin account (`mosquitto_ctrl dynsec init`, which
 * takes the password on its command line) and returns a broker to start.
 */
export async function createDynsecBroker(
  dir: string,
  admin: { username: string; password: string },
): Promise<DynsecBroker> {
  const plugin = await findDynsecPlugin();
  const dynsecFile = join(dir, 'dynamic-security.json');
  try {
    await run('mosquitto_ctrl', ['dynsec', 'init', dynsecFile, admin.username, admin.password]);
  } catch (error) {
    throw new Error(
      `mosquitto_ctrl dynsec init failed (package mosquitto-clients): ${(error as Error).message}`,
    );
  }
  const port = await freePort();
  const conf = join(dir, 'mosquitto.conf');
  await writeFile(
    conf,
    [
      `listener ${port} 127.0.0.1`,
      'allow_anonymous false',
      `plugin ${plugin}`,
      `plugin_opt_config_file ${dynsecFile}`,
      'persistence false',
      // as in docker/mosquitto: small signaling messages go out at once (no Nagle delay)
      'set_tcp_nodelay true',
      'log_dest stdout',
      'log_type error',
      'log_type warning',
      'log_type notice',
      'log_type information',
      // As root Mosquitto would switch to the `mosquitto` user, which may not write the
      // dynsec file in this private directory.
      ...(process.getuid?.() === 0 ? ['user root'] : []),
      '',
    ].join('\n'),
  );
  let child: ChildProcess | undefined;
  let output = '';
  const broker: DynsecBroker = {
    url: `mqtt://127.0.0.1:${port}`,
    port,
    admin,
    dynsecFile,
    pid: () => child?.pid,
    log: () => output,
    async start() {
      if (child) throw new Error('mosquitto already running');
      const proc = spawn('mosquitto', ['-c', conf], { stdio: ['ignore', 'pipe', 'pipe'] });
      child = proc;
      proc.stdout?.on('data', (d: Buffer) => (output += d.toString()));
      proc.stderr?.on('data', (d: Buffer) => (output += d.toString()));
      let exited: string | undefined;
      // never outlive the test process (e.g. when a hook timed out before stop())
      const killOnExit = (): void => {
        proc.kill('SIGKILL');
      };
      process.once('exit', killOnExit);
      proc.once('exit', (code, signal) => {
        exited = `exited (${signal ?? code})`;
        process.removeListener('exit', killOnExit);
        if (child === proc) child = undefined;
      });
      proc.once('error', (error) => (exited = `failed to start: ${error.message}`));
      while (!(await accepts(port))) {
        if (exited) throw new Error(`mosquitto ${exited}:\n${output}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    },
    async stop() {
      const proc = child;
      if (!proc) return;
      const gone = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
      proc.kill('SIGCONT');
      proc.kill('SIGTERM');
      const timer = setTimeout(() => proc.kill('SIGKILL'), 5_000);
      await gone;
      clearTimeout(timer);
    },
    async kill() {
      const proc = child;
      if (!proc) return;
      const gone = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
      proc.kill('SIGKILL');
      await gone;
    },
    pause() {
      child?.kill('SIGSTOP');
    },
    resume() {
      child?.kill('SIGCONT');
    },
  };
  return broker;
}
