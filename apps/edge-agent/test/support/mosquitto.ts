// A private Mosquitto for tests: own config, own port (picked free, loopback), optional
// password file and ACL or the Dynamic Security plugin (what the registrar provisions device
// accounts into, MQTT_PROVISIONING=dynsec), killable and restartable on the same port and
// accounts. Fails, never skips, when the binary or the plugin is missing.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const MOSQUITTO = '/usr/sbin/mosquitto';
const DYNSEC_PLUGIN = 'mosquitto_dynamic_security.so';

/** The Dynamic Security plugin of the Debian package `mosquitto` (2.0+). */
function dynsecPlugin(): string {
  const files = execFileSync('dpkg', ['-L', 'mosquitto'], { encoding: 'utf8' }).split('\n');
  const plugin = files.find((f) => f.endsWith(`/${DYNSEC_PLUGIN}`));
  if (!plugin) throw new Error(`${DYNSEC_PLUGIN} not in the mosquitto package (dpkg -L)`);
  return plugin;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const addr = s.address();
      s.close(() =>
        typeof addr === 'object' && addr ? resolve(addr.port) : reject(new Error('no port')),
      );
    });
  });
}

export function canConnect(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = connect({ port, host });
    sock.once('connect', () => {
      sock.destroy();
      resolve(true);
    });
    sock.once('error', () => resolve(false));
  });
}

export async function waitFor<T>(
  what: string,
  probe: () => T | undefined | false | Promise<T | undefined | false>,
  deadlineMs = 45_000,
): Promise<T> {
  const end = Date.now() + deadlineMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

export interface Broker {
  port: number;
  url: string;
  /** SIGKILL: connections drop without any MQTT goodbye. */
  kill(): Promise<void>;
  start(): Promise<void>;
  stop(): Promise<void>;
}

export async function startMosquitto(
  options: {
    users?: Record<string, string>;
    acl?: string;
    /** Dynamic Security with this admin account (anonymous access off; accounts persist). */
    dynsec?: { username: string; password: string };
  } = {},
): Promise<Broker> {
  const dir = mkdtempSync(join(tmpdir(), 'agent-mosq-'));
  const port = await freePort();
  const lines = [
    `listener ${port} 127.0.0.1`,
    'persistence false',
    'log_dest stderr',
    'log_type error',
  ];
  if (process.getuid?.() === 0) lines.push('user root');
  if (options.users) {
    const pw = join(dir, 'passwd');
    writeFileSync(pw, '', { mode: 0o600 });
    for (const [user, pass] of Object.entries(options.users)) {
      execFileSync('/usr/bin/mosquitto_passwd', ['-b', pw, user, pass]);
    }
    lines.push('allow_anonymous false', `password_file ${pw}`);
  } else if (!options.dynsec) {
    lines.push('allow_anonymous true');
  }
  if (options.dynsec) {
    const file = join(dir, 'dynamic-security.json');
    const { username, password } = options.dynsec;
    execFileSync('/usr/bin/mosquitto_ctrl', ['dynsec', 'init', file, username, password]);
    lines.push(
      'allow_anonymous false',
      `plugin ${dynsecPlugin()}`,
      `plugin_opt_config_file ${file}`,
    );
  }
  if (options.acl !== undefined) {
    const acl = join(dir, 'acl');
    writeFileSync(acl, options.acl, { mode: 0o600 });
    lines.push(`acl_file ${acl}`);
  }
  const conf = join(dir, 'mosquitto.conf');
  writeFileSync(conf, `${lines.join('\n')}\n`, { mode: 0o600 });
  let child: ChildProcess | undefined;

  const broker: Broker = {
    port,
    url: `mqtt://127.0.0.1:${port}`,
    async start() {
      const proc = spawn(MOSQUITTO, ['-c', conf], { stdio: ['ignore', 'ignore', 'pipe'] });
      child = proc;
      let stderr = '';
      proc.stderr?.on('data', (c: Buffer) => (stderr += c.toString()));
      await waitFor(`mosquitto on port ${port}`, async () => {
        if (proc.exitCode !== null) throw new Error(`mosquitto exited: ${stderr}`);
        return canConnect(port);
      });
    },
    async kill() {
      const proc = child;
      if (!proc || proc.exitCode !== null) return;
      const exited = new Promise((r) => proc.once('exit', r));
      proc.kill('SIGKILL');
      await exited;
    },
    async stop() {
      const proc = child;
      if (!proc || proc.exitCode !== null) return;
      const exited = new Promise((r) => proc.once('exit', r));
      proc.kill('SIGTERM');
      await exited;
    },
  };
  await broker.start();
  return broker;
}
