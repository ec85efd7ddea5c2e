// Drives one session across the lab: starts the device process in the device LAN and the
// console process in the console LAN, relays their signaling (JSON lines) through the test
// runner, and returns the console's result line.
import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import {
  type Ed25519KeyPair,
  createTurnCredentials,
  exportPrivateJwk,
  exportPublicJwk,
  generateKeyPair,
  signGrant,
} from '@peerfetch/crypto';
import type { DeviceIdentity } from '../../src/identity.js';
import type { ConsoleConfig } from './console.js';
import { ADDR, type NetLab } from './netlab.js';

const here = fileURLToPath(new URL('.', import.meta.url));
const NODE_ARGS = ['--conditions=@peerfetch/source', '--import', 'tsx'];

export interface SessionResult {
  ok: boolean;
  error?: string;
  selected?: {
    local: { type: string; address: string; transport: string };
    remote: { type: string; address: string; transport: string };
  } | null;
  setupMs?: number;
  bytes?: number;
  sha256?: string;
  seconds?: number;
  mibPerS?: number;
  localCandidates?: string[];
  states?: string[];
  survived?: boolean;
  brokeAfterMs?: number;
  /** What the device's answerer reported (`connected`: path of its selected pair). */
  device?: { path: string; pair: string };
  /** The console's libdatachannel log, kept when the session failed. */
  consoleLog?: string;
}

export interface Device {
  identity: DeviceIdentity;
  registrar: Ed25519KeyPair;
  /** Writes a line to the device's stdin. */
  write(line: string): void;
  onSignal(cb: (line: string) => void): void;
  stderr(): string;
}

export async function startDevice(lab: NetLab, clipsDir: string): Promise<Device> {
  const registrar = generateKeyPair();
  const devicePair = generateKeyPair();
  const deviceId = randomUUID();
  const identity: DeviceIdentity = {
    deviceId,
    orgId: 'org-nat',
    publicKey: exportPublicJwk(devicePair.publicKey),
    privateKey: exportPrivateJwk(devicePair),
    registrarKey: exportPublicJwk(registrar.publicKey),
    registrarUrl: 'https://registrar.invalid',
    mqtt: { url: 'mqtt://127.0.0.1:1', username: deviceId, password: 'unused' },
    name: 'cam-nat',
    enrolledAt: 0,
  };
  const configPath = join(lab.dir, 'device.json');
  writeFileSync(configPath, JSON.stringify({ identity, clipsDir }), { mode: 0o600 });
  const child = lab.spawn(lab.ns.device, process.execPath, [
    ...NODE_ARGS,
    join(here, 'device.ts'),
    configPath,
  ]);
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const listeners: ((line: string) => void)[] = [];
  const lines = createInterface({ input: child.stdout });
  const ready = new Promise<void>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`device exited (${code}): ${stderr}`)));
    lines.on('line', (line) => {
      if (line.includes('"type":"ready"')) resolve();
      else for (const l of listeners) l(line);
    });
  });
  await ready;
  return {
    identity,
    registrar,
    write: (line) => child.stdin?.write(`${line}\n`),
    onSignal: (cb) => listeners.push(cb),
    stderr: () => stderr,
  };
}

export interface SessionOptions {
  /** TURN credential lifetime for both ends (≤ 0: already expired). */
  turnTtlS?: number;
  iceTransportPolicy?: 'all' | 'relay';
  /** `udp`, `tcp` or both (default both). */
  turnTransports?: ('udp' | 'tcp')[];
  path: string;
  timeoutMs?: number;
  /** See ConsoleConfig.holdMs. */
  holdMs?: number;
  /** Console events (`established`); `mark()` starts the console's break timer. */
  onEvent?: (event: Record<string, unknown>, mark: () => void) => void;
}

function iceServersFor(lab: NetLab, userId: string, o: SessionOptions) {
  const turn = lab.turn;
  if (!turn) throw new Error('TURN server not started');
  // per-session, short-lived credentials from the shared secret (never a static password)
  const cred = createTurnCredentials({
    secret: turn.secret,
    userId,
    ttlSeconds: o.turnTtlS ?? 300,
  });
  const transports = o.turnTransports ?? ['udp', 'tcp'];
  return [
    { urls: `stun:${ADDR.pub}:${turn.port}` },
    ...transports.map((t) => ({
      urls: `turn:${ADDR.pub}:${turn.port}?transport=${t}`,
      username: cred.username,
      credential: cred.credential,
    })),
  ];
}

/** One console session against `device`: returns the console's result. */
export async function runSession(
  lab: NetLab,
  device: Device,
  o: SessionOptions,
): Promise<SessionResult> {
  const sessionId = randomUUID();
  const sessionPair = generateKeyPair();
  const grant = await signGrant(
    {
      issuer: 'nat-test',
      userId: 'user-nat',
      deviceId: device.identity.deviceId,
      orgId: device.identity.orgId,
      role: 'viewer',
      sessionKey: sessionPair.publicKey,
    },
    device.registrar,
  );
  const config: ConsoleConfig = {
    sessionId,
    deviceId: device.identity.deviceId,
    grant,
    sessionKey: exportPrivateJwk(sessionPair),
    iceServers: iceServersFor(lab, `console-${sessionId.slice(0, 8)}`, o),
    deviceIceServers: iceServersFor(lab, `device-${sessionId.slice(0, 8)}`, o),
    ...(o.iceTransportPolicy ? { iceTransportPolicy: o.iceTransportPolicy } : {}),
    path: o.path,
    timeoutMs: o.timeoutMs ?? 20_000,
    ...(o.holdMs !== undefined ? { holdMs: o.holdMs } : {}),
  };
  const configPath = join(lab.dir, `console-${sessionId}.json`);
  writeFileSync(configPath, JSON.stringify(config), { mode: 0o600 });
  const child = lab.spawn(lab.ns.console, process.execPath, [
    ...NODE_ARGS,
    join(here, 'console.ts'),
    configPath,
  ]);
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  // device → console (only this session's messages); the device's path report is kept
  let reported: SessionResult['device'];
  device.onSignal((line) => {
    if (!line.includes(sessionId)) return;
    if (line.includes('"type":"connected"')) {
      const m = JSON.parse(line) as { path: string; pair: string };
      reported = { path: m.path, pair: m.pair };
      return;
    }
    child.stdin?.write(`${line}\n`);
  });
  return new Promise<SessionResult>((resolve) => {
    let result: SessionResult | undefined;
    createInterface({ input: child.stdout }).on('line', (line) => {
      let m: { type?: string };
      try {
        m = JSON.parse(line) as { type?: string };
      } catch {
        return;
      }
      if (m.type === 'result') result = m as SessionResult;
      else if (m.type === 'event') {
        o.onEvent?.(m, () => child.stdin?.write(`${JSON.stringify({ type: 'mark' })}\n`));
      } else device.write(line); // console → device (it holds its candidates until the answer)
    });
    child.once('exit', (code) => {
      device.write(JSON.stringify({ type: 'hangup', sessionId, reason: 'console gone' }));
      const r = result ?? { ok: false, error: `console exited (${code}) without result` };
      if (reported) r.device = reported;
      if (!r.ok) r.consoleLog = stderr.slice(-20_000);
      resolve(r);
    });
  });
}
