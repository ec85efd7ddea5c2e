// `edge-agent run`: config + identity (enroll on first run) + MQTT link + heartbeat +
// audit sync + state file + WebRTC answerer (webrtc/answerer.ts: node-datachannel +
// channel handshake + peer-http over `createAgentRouter`) + graceful shutdown.
// `WEBRTC=off` runs presence-only, explicitly, refusing every offer with an error.
import { join } from 'node:path';
import nodeDataChannel from 'node-datachannel';
import { AuditLog, syncAuditLog } from './audit/audit-log.js';
import { createClipsHandler } from './clips/clips.js';
import type { AgentConfig } from './config.js';
import { enroll } from './enroll.js';
import { createUpstreamProxy } from './http/proxy.js';
import { createAgentRouter } from './http/router.js';
import { type DeviceIdentity, IdentityStore, identityFingerprints } from './identity.js';
import type { Logger } from './log.js';
import { collectHeartbeat } from './metrics.js';
import { MqttLink } from './mqtt/link.js';
import type { SignalIn, SignalOut } from './mqtt/topics.js';
import { type AgentState, writeAgentState } from './state.js';
import { AGENT_VERSION } from './version.js';
import { WebRtcAnswerer } from './webrtc/answerer.js';

/** What the WebRTC side must provide (next step: node-datachannel + deviceHandshake). */
export interface SessionAnswerer {
  /** Handles offer/candidate/hangup; sends answers/candidates through `send`. */
  handle(message: SignalIn): Promise<void>;
  readonly activeSessions: number;
  /** Closes every session (SIGTERM). */
  closeAll(reason: string): Promise<void>;
}

export type AnswererFactory = (deps: {
  config: AgentConfig;
  identity: DeviceIdentity;
  audit: AuditLog;
  send: (message: SignalOut) => Promise<void>;
  log: Logger;
}) => SessionAnswerer;

export class AgentStartError extends Error {
  override readonly name = 'AgentStartError';
  constructor(
    readonly exitCode: number,
    message: string,
  ) {
    super(message);
  }
}

/** Presence-only: every offer gets an `error` back, so the console fails fast and clearly. */
function refusingAnswerer(send: (m: SignalOut) => Promise<void>): SessionAnswerer {
  return {
    activeSessions: 0,
    async handle(message) {
      if (message.type === 'offer') {
        await send({ type: 'error', sessionId: message.sessionId, reason: 'SESSIONS_DISABLED' });
      }
    },
    closeAll: () => Promise.resolve(),
  };
}

export interface RunningAgent {
  identity: DeviceIdentity;
  link: MqttLink;
  /** Graceful stop: sessions closed, offline published, audit closed. Idempotent. */
  stop(reason: string): Promise<void>;
}

export async function loadOrEnroll(config: AgentConfig, log: Logger): Promise<DeviceIdentity> {
  const store = new IdentityStore(config.dataDir);
  const existing = await store.load();
  if (existing) return existing;
  if (config.claimCode !== undefined && config.registrarUrl !== undefined) {
    log.info({ registrar: config.registrarUrl }, 'no identity: enrolling with CLAIM_CODE');
    const identity = await enroll({
      registrarUrl: config.registrarUrl,
      code: config.claimCode,
      dataDir: config.dataDir,
      agentVersion: AGENT_VERSION,
      name: config.deviceName,
      allowInsecure: config.allowInsecureRegistrar,
    });
    log.info(
      { deviceId: identity.deviceId, fingerprint: identityFingerprints(identity).device },
      'enrolled',
    );
    return identity;
  }
  throw new AgentStartError(
    2,
    `not enrolled (no identity in ${config.dataDir}): run "edge-agent enroll --registrar URL --code CODE" or set CLAIM_CODE and REGISTRAR_URL`,
  );
}

/** The production answerer: node-datachannel sessions serving the agent router. */
export const webrtcAnswererFactory: AnswererFactory = ({ config, identity, audit, send, log }) => {
  const startedAt = Date.now();
  const router = createAgentRouter({
    clips: createClipsHandler({ clipsDir: config.clipsDir }),
    proxy: createUpstreamProxy({
      origins: config.upstreamOrigins,
      defaultOrigin: config.defaultUpstream,
    }),
    info: () => ({
      deviceId: identity.deviceId,
      name: identity.name ?? null,
      agentVersion: AGENT_VERSION,
      uptimeS: Math.floor((Date.now() - startedAt) / 1000),
      upstreams: config.upstreamOrigins,
      defaultUpstream:
        config.defaultUpstream ??
        (config.upstreamOrigins.length === 1 ? config.upstreamOrigins[0] : null),
      routes: ['/_agent/info', '/_agent/health', '/_agent/clips'],
    }),
    audit: (event) => {
      audit
        .append(event)
        .catch((err: unknown) => log.warn({ err: String(err) }, 'audit write failed'));
    },
  });
  return new WebRtcAnswerer({
    identity,
    handlerFor: router,
    send,
    log,
    maxSessions: config.maxSessions,
    idleTimeoutS: config.idleTimeoutS,
    ...(config.iceBindAddress !== undefined ? { bindAddress: config.iceBindAddress } : {}),
  });
};

export async function startAgent(
  config: AgentConfig,
  log: Logger,
  answererFactory: AnswererFactory | undefined = config.webrtc ? webrtcAnswererFactory : undefined,
): Promise<RunningAgent> {
  const identity = await loadOrEnroll(config, log);
  const audit = new AuditLog({
    dir: join(config.dataDir, 'audit'),
    maxFileBytes: config.auditMaxFileBytes,
    keepFiles: config.auditKeepFiles,
  });
  await audit.open();

  // `link` is created below; these closures only run once it exists.
  const send = (m: SignalOut): Promise<void> => link.publishSignal(m);
  const answerer = answererFactory
    ? answererFactory({ config, identity, audit, send, log })
    : refusingAnswerer(send);
  if (!answererFactory) log.warn('presence-only mode (WEBRTC=off): every session offer is refused');

  const startedAt = Date.now();
  const mode: AgentState['mode'] = answererFactory ? 'full' : 'presence-only';
  const saveState = (): Promise<void> =>
    writeAgentState(config.dataDir, {
      pid: process.pid,
      mode,
      mqtt: link.state,
      sessions: answerer.activeSessions,
      startedAt,
      updatedAt: Date.now(),
      agentVersion: AGENT_VERSION,
    }).catch((err: unknown) => log.warn({ err: String(err) }, 'cannot write state file'));

  let syncing = false;
  const syncAudit = async (): Promise<void> => {
    if (syncing || link.state !== 'online') return;
    syncing = true;
    try {
      const n = await syncAuditLog(audit, (events) =>
        link.publishAudit(
          events.map(({ ts, sessionId, user, method, path, status, bytes }) => ({
            ts,
            sessionId,
            user,
            method,
            path,
            status,
            bytes,
          })),
        ),
      );
      if (n > 0) log.debug({ events: n }, 'audit synced');
    } catch (err) {
      log.warn({ err: String(err) }, 'audit sync failed; will retry');
    } finally {
      syncing = false;
    }
  };

  const link = new MqttLink({
    url: config.mqttUrl ?? identity.mqtt.url,
    username: identity.mqtt.username,
    password: identity.mqtt.password,
    deviceId: identity.deviceId,
    agentVersion: AGENT_VERSION,
    heartbeatIntervalMs: config.heartbeatIntervalS * 1000,
    collectHeartbeat: () =>
      collectHeartbeat({ dataDir: config.dataDir, activeSessions: () => answerer.activeSessions }),
    onSignal: (m) => answerer.handle(m),
    onOnline: syncAudit,
    log,
  });
  link.on('state', (s) => {
    log.info({ mqtt: s }, 'link state');
    void saveState();
  });
  const tick = setInterval(() => {
    void saveState();
    void syncAudit();
  }, config.heartbeatIntervalS * 1000);
  link.start();
  await saveState();
  log.info(
    {
      deviceId: identity.deviceId,
      fingerprint: identityFingerprints(identity).device,
      mqtt: config.mqttUrl ?? identity.mqtt.url,
      mode,
    },
    'edge agent started',
  );

  let stopping: Promise<void> | undefined;
  return {
    identity,
    link,
    stop(reason) {
      stopping ??= (async () => {
        log.info({ reason }, 'stopping');
        clearInterval(tick);
        await answerer.closeAll(reason).catch(() => undefined);
        await link.stop();
        await audit.close().catch(() => undefined);
        await saveState();
        if (answererFactory) nodeDataChannel.cleanup();
      })();
      return stopping;
    },
  };
}
