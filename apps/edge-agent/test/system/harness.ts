// The real system for the edge agent's system tests and figures: a fresh PostgreSQL
// database (unix socket), the real registrar process (apps/registrar/dist/main.js), the real
// agent process (`node dist/cli.js run`), the demo upstream, and console-side sessions
// (POST /api/sessions + WebSocket /api/signal + node-datachannel + consoleHandshake +
// peer-http), exactly as the browser console does.
//
// Broker: the registrar's embedded aedes broker by default (what `npm start` runs), or an
// external Mosquitto with the Dynamic Security plugin (`startRegistrar(…, { broker })`, what
// a deployment runs): the registrar then provisions each enrolled device's own account and
// topic ACLs into it (MQTT_PROVISIONING=dynsec) and the agent gets that account and the
// broker's URL at enrollment. With the embedded broker a registrar restart is also a
// broker restart; with Mosquitto the two restart independently.
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import {
  consoleHandshake,
  exportPublicJwk,
  generateSessionSigner,
  parseSdpFingerprint,
} from '@peerfetch/crypto';
import {
  type PeerHttpSession,
  type Transport,
  createPeerFetch,
  nodeDataChannelTransport,
} from '@peerfetch/peer-http/node';
import mqtt, { type MqttClient } from 'mqtt';
import nodeDataChannel, { type DataChannel, type PeerConnection } from 'node-datachannel';
import pg from 'pg';
import { WebSocket } from 'ws';
import { type Broker, freePort, waitFor } from '../support/mosquitto.js';

export const ROOT = join(import.meta.dirname, '..', '..', '..', '..');
export const REGISTRAR_MAIN = join(ROOT, 'apps', 'registrar', 'dist', 'main.js');
const PG_SERVER = 'postgresql://postgres@localhost/postgres?host=/var/run/postgresql';

export interface TestDatabase {
  url: string;
  drop(): Promise<void>;
}

/** CREATE DATABASE pf_agent_sys_<random> through the unix socket; drop() removes it. */
export async function createDatabase(): Promise<TestDatabase> {
  const name = `pf_agent_sys_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: PG_SERVER });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  return {
    url: `postgresql://postgres@localhost/${name}?host=/var/run/postgresql`,
    async drop() {
      const c = new pg.Client({ connectionString: PG_SERVER });
      await c.connect();
      try {
        await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await c.end();
      }
    },
  };
}

/** Collects a child's stderr+stdout (bounded) for failure messages. */
function capture(child: ChildProcess): () => string {
  let out = '';
  const add = (c: Buffer): void => {
    out = (out + c.toString()).slice(-4_000_000);
  };
  child.stdout?.on('data', add);
  child.stderr?.on('data', add);
  return () => out;
}

export interface RegistrarProcess {
  url: string;
  /** The broker the registrar uses (embedded or external) and its own account there. */
  mqttUrl: string;
  mqttUsername: string;
  mqttPassword: string;
  dataDir: string;
  child: ChildProcess;
  output(): string;
  /** SIGTERM (graceful) or SIGKILL (crash; an embedded broker dies with it, without goodbye). */
  stop(signal?: NodeJS.Signals): Promise<void>;
  start(): Promise<void>;
}

export const ADMIN = { email: 'admin@agent-system.test', password: 'agent-system-Passw0rd!' };

/** An external Mosquitto (Dynamic Security) and the registrar's admin account on it. */
export interface ExternalBroker {
  broker: Broker;
  admin: { username: string; password: string };
}

export async function startRegistrar(
  databaseUrl: string,
  dataDir: string,
  extraEnv: Record<string, string> = {},
  options: { external?: ExternalBroker } = {},
) {
  const port = await freePort();
  const { external } = options;
  const mqttPort = external ? external.broker.port : await freePort();
  const mqttUsername = external ? external.admin.username : 'pf-registrar';
  const mqttPassword = external ? external.admin.password : randomBytes(24).toString('base64url');
  const mqttEnv: Record<string, string> = external
    ? {
        MQTT_URL: external.broker.url,
        MQTT_USERNAME: mqttUsername,
        MQTT_PASSWORD: mqttPassword,
        MQTT_PROVISIONING: 'dynsec',
      }
    : { MQTT_HOST: '127.0.0.1', MQTT_PORT: String(mqttPort), MQTT_PASSWORD: mqttPassword };
  const env = {
    PATH: process.env['PATH'] ?? '/usr/bin:/bin',
    HOST: '127.0.0.1',
    PORT: String(port),
    ...mqttEnv,
    DATA_DIR: dataDir,
    DATABASE_URL: databaseUrl,
    BOOTSTRAP_ADMIN_EMAIL: ADMIN.email,
    BOOTSTRAP_ADMIN_PASSWORD: ADMIN.password,
    LOGIN_RATE_LIMIT: '1000',
    LOG_LEVEL: 'warn',
    CHECKPOINT_DISABLE: '1',
    ...extraEnv,
  };
  const reg: RegistrarProcess = {
    url: `http://127.0.0.1:${port}`,
    mqttUrl: `mqtt://127.0.0.1:${mqttPort}`,
    mqttUsername,
    mqttPassword,
    dataDir,
    child: undefined as unknown as ChildProcess,
    output: () => '',
    async start() {
      const child = spawn(process.execPath, [REGISTRAR_MAIN], {
        cwd: ROOT,
        env,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      reg.child = child;
      reg.output = capture(child);
      await waitFor('registrar /ready', async () => {
        if (child.exitCode !== null) throw new Error(`registrar exited:\n${reg.output()}`);
        try {
          return (await fetch(`${reg.url}/ready`)).ok;
        } catch {
          return false;
        }
      });
    },
    async stop(signal = 'SIGTERM') {
      const child = reg.child;
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill(signal);
      await exited;
    },
  };
  await reg.start();
  return reg;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- loosely typed test JSON
export type Json = Record<string, any>;

export interface DeviceRow {
  id: string;
  name: string | null;
  status: string;
  lastSeenAt: string | null;
}

/** JSON API client of the registrar. */
export class Api {
  constructor(
    readonly base: string,
    public token?: string,
  ) {}

  async call(
    method: string,
    path: string,
    body?: unknown,
  ): Promise<{ status: number; body: Json }> {
    const send = () =>
      fetch(`${this.base}${path}`, {
        method,
        headers: {
          'content-type': 'application/json',
          ...(this.token ? { authorization: `Bearer ${this.token}` } : {}),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
    let res: Response;
    try {
      res = await send();
    } catch (error) {
      // a pooled keep-alive socket the server closed as we reused it ("other side closed",
      // seen once under CPU load): a GET is safe to send again, on a fresh connection
      if (method !== 'GET') throw error;
      res = await send();
    }
    const parsed: unknown = await res.json().catch(() => null);
    return { status: res.status, body: parsed ?? {} };
  }

  async login(): Promise<this> {
    const r = await this.call('POST', '/api/auth/login', ADMIN);
    if (r.status !== 200 && r.status !== 201) {
      throw new Error(`login: ${r.status} ${JSON.stringify(r.body)}`);
    }
    this.token = String(r.body['token']);
    return this;
  }

  /** A new claim code (one hour); a refusal throws with the registrar's answer. */
  async claimCode(label: string): Promise<string> {
    const r = await this.call('POST', '/api/claim-codes', { label, ttlHours: 1 });
    if (r.status !== 201) throw new Error(`claim code: ${r.status} ${JSON.stringify(r.body)}`);
    return String(r.body['code']);
  }

  async devices(): Promise<DeviceRow[]> {
    const r = await this.call('GET', '/api/devices?limit=100');
    const items: unknown = Array.isArray(r.body) ? r.body : r.body['items'];
    return Array.isArray(items) ? (items as DeviceRow[]) : [];
  }

  async device(id: string): Promise<DeviceRow | undefined> {
    return (await this.devices()).find((d) => d.id === id);
  }
}

export interface AgentProcess {
  child: ChildProcess;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  output(): string;
}

export function startAgent(cli: string, env: Record<string, string>): AgentProcess {
  const child = spawn(process.execPath, [cli, 'run'], {
    env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output = capture(child);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) =>
    child.once('exit', (code, signal) => r({ code, signal })),
  );
  return { child, exited, output };
}

/** Resident set size of a process in bytes, from /proc/<pid>/status (VmRSS). */
export function rssBytes(pid: number): number {
  const m = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!m?.[1]) throw new Error(`no VmRSS for ${pid}`);
  return Number(m[1]) * 1024;
}

/** Open file descriptors of a process (/proc/<pid>/fd). */
export function fdCount(pid: number): number {
  return readdirSync(`/proc/${pid}/fd`).length;
}

type Msg = Json;

/** The registrar's console WebSocket with an inbox. */
export class SignalSocket {
  readonly inbox: Msg[] = [];
  /** Every message received, in order (never consumed). */
  readonly seen: Msg[] = [];
  private waiters: Array<() => void> = [];
  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data: Buffer) => {
      let m: Msg;
      try {
        m = JSON.parse(data.toString()) as Msg;
      } catch {
        m = { type: 'unparsable' };
      }
      this.inbox.push(m);
      this.seen.push(m);
      this.waiters.splice(0).forEach((w) => w());
    });
    ws.on('close', () => this.waiters.splice(0).forEach((w) => w()));
  }

  static async open(base: string, token: string): Promise<SignalSocket> {
    const ws = new WebSocket(`${base.replace('http', 'ws')}/api/signal`, [
      'pf-signal.v1',
      `bearer.${token}`,
    ]);
    const s = new SignalSocket(ws);
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    await s.next((m) => m['type'] === 'ready');
    return s;
  }

  send(m: unknown): void {
    if (this.ws.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify(m));
  }

  async next(pred: (m: Msg) => boolean, timeoutMs = 30_000): Promise<Msg> {
    const end = Date.now() + timeoutMs;
    for (;;) {
      const i = this.inbox.findIndex(pred);
      if (i >= 0) return this.inbox.splice(i, 1)[0] as Msg;
      if (this.ws.readyState !== WebSocket.OPEN) throw new Error('signal socket closed');
      const left = end - Date.now();
      if (left <= 0) throw new Error('timed out waiting for a signaling message');
      await new Promise<void>((r) => {
        const t = setTimeout(r, left);
        this.waiters.push(() => {
          clearTimeout(t);
          r();
        });
      });
    }
  }

  close(): void {
    this.ws.close();
  }
}

export interface ConsoleSession {
  sessionId: string;
  grant: string;
  pc: PeerConnection;
  dc: DataChannel;
  signal: SignalSocket;
  /** peer-http client (undefined with `handshake: false`). */
  client: PeerHttpSession;
  transport: Transport;
  /** performance.now() when the offer was sent to the registrar. */
  offerSentAt: number;
  close(): Promise<void>;
}

export interface OpenOptions {
  role?: 'viewer' | 'operator' | 'admin';
  /** Replace the registrar's grant in the offer (refusal tests). */
  grant?: string;
  /** Stop after the DataChannel opened (no channel handshake, no peer-http). */
  handshake?: boolean;
}

/**
 * A console session as the browser console opens it. Rejects with the registrar's or the
 * agent's refusal (`{type:"error"}` / `{type:"hangup"}` on the signaling socket).
 */
export async function openSession(
  api: Api,
  deviceId: string,
  options: OpenOptions = {},
): Promise<ConsoleSession> {
  const signer = await generateSessionSigner();
  const r = await api.call('POST', '/api/sessions', {
    deviceId,
    sessionKey: exportPublicJwk(signer.publicKey),
    ...(options.role ? { role: options.role } : {}),
  });
  if (r.status !== 201)
    throw new Error(`POST /api/sessions: ${r.status} ${JSON.stringify(r.body)}`);
  const sessionId = String(r.body['sessionId']);
  const grant = options.grant ?? String(r.body['grant']);
  const signal = await SignalSocket.open(api.base, api.token ?? '');
  const pc = new nodeDataChannel.PeerConnection(`console-${randomUUID()}`, {
    iceServers: [],
    bindAddress: '127.0.0.1',
  });
  let remoteSet = false;
  let accepted = false;
  const remotePending: { candidate: string; mid: string }[] = [];
  const localPending: { candidate: string; mid: string }[] = [];
  let offerSentAt = 0;
  let failed: (e: Error) => void = () => undefined;
  const failure = new Promise<never>((_, reject) => (failed = reject));
  failure.catch(() => undefined);
  let done = false;

  const pump = async (): Promise<void> => {
    while (!done) {
      let m: Msg;
      try {
        m = await signal.next(() => true, 3_600_000);
      } catch {
        return;
      }
      try {
        // Our candidates go out only once the answer is applied. A browser trickles them as
        // soon as the offer is accepted (the agent keeps those that arrive while it verifies
        // the grant: e48e081, unit-tested in answerer.spec.ts), but libdatachannel on this
        // side hands the remote credentials to ICE before it records the remote fingerprint:
        // when the agent's checks are already arriving, ICE and the DTLS handshake can finish
        // inside setRemoteDescription, the fingerprint check finds no remote description and
        // we send the agent "unknown CA" (seen under CPU load as "hangup: connection
        // failed" in the 100-cycle test). Waiting for the answer closes that window.
        if (m['type'] === 'answer' && typeof m['sdp'] === 'string') {
          pc.setRemoteDescription(m['sdp'], 'answer');
          remoteSet = true;
          for (const c of remotePending.splice(0)) pc.addRemoteCandidate(c.candidate, c.mid);
          accepted = true;
          for (const c of localPending.splice(0))
            signal.send({ type: 'candidate', sessionId, ...c });
        } else if (m['type'] === 'candidate' && typeof m['candidate'] === 'string') {
          const c = { candidate: String(m['candidate']), mid: String(m['mid'] ?? '0') };
          if (remoteSet) pc.addRemoteCandidate(c.candidate, c.mid);
          else remotePending.push(c);
        } else if (m['type'] === 'error' || m['type'] === 'hangup') {
          failed(
            Object.assign(new Error(`${m['type']}: ${m['code'] ?? m['reason'] ?? ''}`), {
              signal: m,
            }),
          );
        }
      } catch {
        // never throw into node-datachannel's world
      }
    }
  };
  void pump();

  pc.onLocalDescription((sdp, type) => {
    try {
      if (type !== 'offer') return;
      offerSentAt = performance.now();
      signal.send({
        type: 'offer',
        deviceId,
        grant,
        // the console takes the DTLS client role (avoids libdatachannel's ~1 s retransmit
        // outlier when the answerer is the client; see FACTS.md)
        sdp: sdp.replace(/^a=setup:actpass(\r?)$/gm, 'a=setup:active$1'),
      });
    } catch {
      // idem
    }
  });
  pc.onLocalCandidate((candidate, mid) => {
    try {
      if (accepted) signal.send({ type: 'candidate', sessionId, candidate, mid });
      else localPending.push({ candidate, mid });
    } catch {
      // idem
    }
  });
  const dc = pc.createDataChannel('peer-http');
  const cleanup = (): void => {
    done = true;
    try {
      pc.close();
    } catch {
      // already closed
    }
    signal.close();
  };
  try {
    const transport = await Promise.race([
      failure,
      new Promise<Transport>((resolve) =>
        dc.onOpen(() => {
          try {
            resolve(nodeDataChannelTransport(dc));
          } catch {
            // idem
          }
        }),
      ),
    ]);
    const session: ConsoleSession = {
      sessionId,
      grant,
      pc,
      dc,
      signal,
      transport,
      client: undefined as unknown as PeerHttpSession,
      offerSentAt,
      async close() {
        signal.send({ type: 'hangup', sessionId });
        await session.client?.close();
        await new Promise((r) => setTimeout(r, 0));
        cleanup();
      },
    };
    if (options.handshake === false) return session;
    await Promise.race([
      failure,
      consoleHandshake(transport, {
        deviceId,
        grant,
        sessionKey: signer,
        localFingerprint: parseSdpFingerprint(pc.localDescription()?.sdp ?? ''),
        remoteFingerprint: parseSdpFingerprint(pc.remoteDescription()?.sdp ?? ''),
      }),
    ]);
    session.client = createPeerFetch(transport);
    return session;
  } catch (err) {
    cleanup();
    throw err;
  }
}

/** The registrar's own MQTT identity on its broker (what a second replica uses). */
export async function registrarMqtt(reg: RegistrarProcess): Promise<MqttClient> {
  return mqtt.connectAsync(reg.mqttUrl, {
    clientId: `pf-registrar-test-${randomUUID()}`,
    username: reg.mqttUsername,
    password: reg.mqttPassword,
    reconnectPeriod: 0,
  });
}

export { waitFor };
