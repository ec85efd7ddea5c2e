// The registrar's MQTT side.
// - Embedded default: an aedes broker (MQTT 3.1.1) on MQTT_HOST:MQTT_PORT (18830), with
//   per-device authentication (username = client id = device id, password checked against
//   the stored SHA-256) and the topic ACL of topics.ts.
// - External broker (MQTT_URL): the broker enforces credentials and ACLs itself. With
//   MQTT_PROVISIONING=dynsec the registrar creates each device's account and ACLs on
//   Mosquitto (dynsec.ts) at enrollment and deletes them at revocation/deletion; a sweep at
//   every (re)connect removes accounts left behind by a failed removal. Without it the
//   registrar provisions nothing (docs/operations.md).
// - The registrar subscribes to the devices' status, heartbeat, signal/out and audit topics
//   (presence and metrics go to the database): on an external broker as an ordinary MQTT
//   client, on its embedded broker in process (aedes' own publish/subscribe; other replicas
//   join that broker as MQTT clients with MQTT_PASSWORD).
import { createServer, type Server } from 'node:net';
import type { AddressInfo } from 'node:net';
import { randomUUID, timingSafeEqual } from 'node:crypto';
import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationShutdown,
  type OnModuleInit,
} from '@nestjs/common';
import { Aedes, type AuthenticateError, type Client } from 'aedes';
import mqtt, { type MqttClient } from 'mqtt';
import { z } from 'zod';
import { AuditService } from '../audit/audit.service.js';
import { randomSecret, sha256Hex } from '../common/secrets.js';
import { CONFIG, type RegistrarConfig } from '../config/config.js';
import { DevicesRepository } from '../devices/devices.repository.js';
import { MetricsService } from '../observability/metrics.service.js';
import { DynsecClient, DynsecError, DynsecErrorCode, DynsecProvisioner } from './dynsec.js';
import {
  agentClientId,
  canPublish,
  canSubscribe,
  deviceTopic,
  type MqttIdentity,
  parseDeviceTopic,
  REGISTRAR_SUBSCRIPTIONS,
} from './topics.js';

const REGISTRAR_USERNAME = 'pf-registrar';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
/** A broker account younger than this may belong to an enrollment still in its transaction. */
const ORPHAN_GRACE_MS = 10 * 60_000;
const RECONCILE_INTERVAL_MS = 5 * 60_000;
const PRESENCE_TIMEOUT_REASON = 'timeout';
/** The edge agent's default HEARTBEAT_INTERVAL_S, for devices that never announced theirs. */
const DEFAULT_HEARTBEAT_S = 30;

/**
 * What happened to a device's broker account when it was revoked or deleted: `removed`
 * (the broker confirmed, or the embedded broker, which reads the database), `pending` (the
 * broker did not answer: the next sweep removes it), `unmanaged` (external broker without
 * provisioning: the registrar cannot remove anything).
 */
export type BrokerAccountRemoval = 'removed' | 'pending' | 'unmanaged';

const statusSchema = z.object({
  state: z.enum(['online', 'offline']),
  agentVersion: z.string().max(64).optional(),
  ts: z.number().optional(),
  /** Set by a registrar's presence sweep (not the device): nobody was seen, keep last seen. */
  reason: z.literal(PRESENCE_TIMEOUT_REASON).optional(),
});

const heartbeatSchema = z.object({
  ts: z.number().optional(),
  uptimeS: z.number().nonnegative().optional(),
  load1: z.number().nonnegative().optional(),
  memUsedBytes: z.number().nonnegative().optional(),
  memTotalBytes: z.number().nonnegative().optional(),
  diskFreeBytes: z.number().nonnegative().optional(),
  tempC: z.number().optional(),
  agentVersion: z.string().max(64).optional(),
  sessions: z.number().int().nonnegative().optional(),
  /** The agent's heartbeat interval: what the presence timeout counts in. */
  heartbeatS: z.number().int().min(1).max(86_400).optional(),
});

const agentAuditSchema = z.object({
  events: z
    .array(
      z.object({
        ts: z.number(),
        sessionId: z.string().min(1).max(128),
        user: z.string().min(1).max(128),
        method: z.string().min(1).max(16),
        path: z.string().max(1024),
        status: z.number().int().min(0).max(999),
        bytes: z.number().int().nonnegative(),
      }),
    )
    .max(200),
});

/** The MQTT client ids a device may use. */
export function deviceClientIds(deviceId: string): string[] {
  return [deviceId, agentClientId(deviceId)];
}

function authError(message: string): AuthenticateError {
  // aedes: returnCode 4 = bad user name or password (MQTT 3.1.1 CONNACK).
  return Object.assign<Error, { returnCode: 4 }>(new Error(message), { returnCode: 4 });
}

function equalSecrets(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/**
 * Resolves when `client` is usable again after a change that may make Mosquitto disconnect
 * it: reconnected after a disconnection, or still connected when none came (500 ms).
 */
function reconnectedAfterKick(client: MqttClient, limitMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    let kicked = false;
    const onClose = (): void => {
      kicked = true;
    };
    const onConnect = (): void => {
      if (kicked) done();
    };
    const quiet = setTimeout(() => {
      if (!kicked) done();
    }, 500);
    const limit = setTimeout(() => {
      cleanup();
      reject(
        new DynsecError(
          DynsecErrorCode.BROKER_UNAVAILABLE,
          `not reconnected to the broker within ${limitMs} ms after changing the registrar's own role`,
        ),
      );
    }, limitMs);
    function cleanup(): void {
      clearTimeout(quiet);
      clearTimeout(limit);
      client.removeListener('close', onClose);
      client.removeListener('connect', onConnect);
    }
    function done(): void {
      cleanup();
      resolve();
    }
    client.on('close', onClose);
    client.on('connect', onConnect);
  });
}

/**
 * How the registrar publishes: its MQTT client (an external broker), or straight into its
 * embedded broker, in process (no client, no loopback socket, no packets encoded twice).
 */
interface BrokerLink {
  readonly connected: boolean;
  publish(topic: string, payload: Buffer | string, options: { retain?: boolean }): Promise<void>;
}

function clientLink(client: MqttClient): BrokerLink {
  return {
    get connected() {
      return client.connected;
    },
    async publish(topic, payload, { retain = false }) {
      await client.publishAsync(topic, payload, { qos: 1, retain });
    },
  };
}

function inProcessLink(broker: Aedes): BrokerLink {
  return {
    get connected() {
      return !broker.closed;
    },
    publish(topic, payload, { retain = false }) {
      return new Promise((resolve, reject) => {
        broker.publish(
          { cmd: 'publish', topic, payload: Buffer.from(payload), qos: 1, retain, dup: false },
          (error) => (error ? reject(error) : resolve()),
        );
      });
    },
  };
}

@Injectable()
export class MqttService implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger('Mqtt');
  private broker: Aedes | undefined;
  private server: Server | undefined;
  /** The external broker's client (undefined with the embedded broker). */
  private client: MqttClient | undefined;
  private link: BrokerLink | undefined;
  private readonly identities = new WeakMap<Client, MqttIdentity>();
  private readonly registrarPassword: string;
  private brokerUrl = '';
  private dynsecClient: DynsecClient | undefined;
  private dynsec: DynsecProvisioner | undefined;
  private reconcileTimer: NodeJS.Timeout | undefined;
  private reconciling: Promise<void> | undefined;
  private presenceTimer: NodeJS.Timeout | undefined;
  /** Since when this replica's broker connection is up (undefined: down). */
  private listeningSince: Date | undefined;
  private sweepingPresence: Promise<void> | undefined;
  /** Status and heartbeat handling per device, in arrival order (see onMessage). */
  private readonly presenceQueues = new Map<string, Promise<void>>();
  private readonly signalHandlers: Array<(deviceId: string, message: unknown) => void> = [];
  private readonly presenceHandlers: Array<
    (e: { deviceId: string; orgId: string; status: 'online' | 'offline' }) => void
  > = [];

  constructor(
    @Inject(CONFIG) private readonly config: RegistrarConfig,
    private readonly devices: DevicesRepository,
    private readonly audit: AuditService,
    private readonly metrics: MetricsService,
  ) {
    // Embedded broker: other replicas may join it as registrars with MQTT_PASSWORD.
    this.registrarPassword = config.mqtt.password ?? randomSecret();
  }

  /** The broker URL handed to agents at enrollment. */
  publicUrl(): string {
    return this.config.mqtt.publicUrl ?? this.config.mqtt.url ?? this.brokerUrl;
  }

  /** Whether the registrar's own MQTT client is connected (readiness). */
  connected(): boolean {
    return this.link?.connected ?? false;
  }

  async onModuleInit(): Promise<void> {
    const url = this.config.mqtt.url;
    if (!url) {
      await this.attachInProcess(await this.startEmbeddedBroker());
    } else {
      if (this.config.mqtt.provisioning === 'none') {
        this.logger.warn(
          'external MQTT broker without provisioning (MQTT_PROVISIONING=none): the registrar ' +
            'creates no broker accounts or ACLs, so the MQTT credentials it hands out at ' +
            'enrollment work only if the broker is set up for them (anonymous or managed ' +
            'elsewhere); set MQTT_PROVISIONING=dynsec for Mosquitto (docs/operations.md)',
        );
      }
      await this.connectClient(url);
    }
    this.presenceTimer = setInterval(
      () => this.schedulePresenceSweep(),
      this.config.presence.sweepIntervalMs,
    );
    this.presenceTimer.unref();
  }

  async onApplicationShutdown(): Promise<void> {
    clearInterval(this.reconcileTimer);
    clearInterval(this.presenceTimer);
    await this.reconciling;
    await this.sweepingPresence;
    this.dynsecClient?.detach();
    await this.client?.endAsync(true).catch(() => undefined);
    const broker = this.broker;
    if (broker) await new Promise<void>((resolve) => broker.close(() => resolve()));
    const server = this.server;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** Messages an agent published on its signal/out topic (parsed JSON, not validated). */
  onSignalOut(handler: (deviceId: string, message: unknown) => void): void {
    this.signalHandlers.push(handler);
  }

  /** Presence changes recorded in the database. */
  onPresence(
    handler: (e: { deviceId: string; orgId: string; status: 'online' | 'offline' }) => void,
  ): void {
    this.presenceHandlers.push(handler);
  }

  /** Publishes a message to a device's signal/in topic (QoS 1, not retained). */
  async sendToDevice(deviceId: string, message: object): Promise<void> {
    const link = this.link;
    if (!link?.connected) throw new Error('MQTT broker unavailable');
    const payload = Buffer.from(JSON.stringify(message));
    this.metrics.mqttBytesOut.inc(payload.length);
    await link.publish(deviceTopic(deviceId, 'signal/in'), payload, {});
  }

  /**
   * Creates device D's broker account with this password (dynsec), or resets it if it
   * exists. Throws a DynsecError when the broker does not confirm. Nothing to do for the
   * embedded broker (it reads the database) or without provisioning.
   */
  async provisionDevice(deviceId: string, password: string): Promise<void> {
    await this.dynsec?.provisionDevice(deviceId, password);
  }

  /**
   * After key revocation or deletion: removes device D's broker account (dynsec: Mosquitto
   * disconnects it) or drops its connection to the embedded broker. Never throws: a broker
   * that does not answer leaves the account to the next sweep.
   */
  async removeDevice(deviceId: string): Promise<BrokerAccountRemoval> {
    if (this.broker) {
      const clients = (this.broker as unknown as { clients?: Record<string, Client> }).clients;
      for (const id of deviceClientIds(deviceId)) clients?.[id]?.close();
      return 'removed';
    }
    if (!this.dynsec) return 'unmanaged';
    try {
      await this.dynsec.removeDevice(deviceId);
      return 'removed';
    } catch (error) {
      this.logger.warn(
        { err: error, deviceId },
        'removing the device account from the broker failed; the next sweep (on reconnect, ' +
          'at most every 5 minutes) removes it',
      );
      return 'pending';
    }
  }

  /**
   * Deletes the broker accounts of devices that are revoked, or unknown for longer than an
   * enrollment can take (failed removals, rolled-back enrollments), and reports enrolled
   * devices that have no account (a lost dynsec file: they must re-enroll).
   */
  async reconcileAccounts(): Promise<{ removed: number; missing: number }> {
    const dynsec = this.dynsec;
    if (!dynsec) return { removed: 0, missing: 0 };
    const accounts = await dynsec.listDeviceAccounts();
    const revoked = await this.devices.revokedFlags(accounts.map((a) => a.deviceId));
    const oldEnough = Date.now() - ORPHAN_GRACE_MS;
    let removed = 0;
    for (const a of accounts) {
      const isRevoked = revoked.get(a.deviceId);
      const orphan = isRevoked === undefined && (a.provisionedAt?.getTime() ?? 0) < oldEnough;
      if (isRevoked === true || orphan) {
        await dynsec.removeDevice(a.deviceId);
        removed += 1;
      }
    }
    const missing = await this.devices.countActiveExcept(accounts.map((a) => a.deviceId));
    if (removed > 0) {
      this.logger.log(`removed ${removed} broker account(s) of revoked or deleted devices`);
    }
    if (missing > 0) {
      this.logger.warn(
        `${missing} enrolled device(s) have no account on the MQTT broker (dynsec file lost, ` +
          'or enrolled before MQTT_PROVISIONING=dynsec): they cannot connect until re-enrolled',
      );
    }
    return { removed, missing };
  }

  /** One sweep at a time; failures are logged (the next sweep retries). */
  private scheduleReconcile(): void {
    if (this.reconciling) return;
    this.reconciling = this.reconcileAccounts()
      .then(
        () => undefined,
        (error: unknown) =>
          this.logger.warn({ err: error }, 'sweeping the broker accounts failed; will retry'),
      )
      .finally(() => {
        this.reconciling = undefined;
      });
  }

  private async startEmbeddedBroker(): Promise<Aedes> {
    const broker = await Aedes.createBroker({
      id: `pf-registrar-${randomUUID()}`,
      authenticate: (client, username, password, done) => {
        this.authenticate(client, username, password).then(
          (ok) => done(ok ? null : authError('bad user name or password'), ok),
          (error: unknown) => {
            this.logger.error({ err: error }, 'MQTT authentication failed unexpectedly');
            done(authError('server error'), false);
          },
        );
      },
      authorizePublish: (client, packet, done) => {
        const who = client ? this.identities.get(client) : { kind: 'registrar' as const };
        if (!who || !canPublish(who, packet.topic)) {
          done(new Error(`not allowed to publish to ${packet.topic}`));
          return;
        }
        done(null);
      },
      authorizeSubscribe: (client, subscription, done) => {
        const who = this.identities.get(client);
        if (!who || !canSubscribe(who, subscription.topic)) {
          // A null subscription makes aedes answer SUBACK 0x80 (failure) for this filter.
          done(null, null);
          return;
        }
        done(null, subscription);
      },
    });
    // every message through the broker (agents' heartbeats and signaling, ours): with the
    // HTTP and WebSocket counters, what the control plane carried (no payload: docs/architecture.md)
    broker.on('publish', (packet) => {
      if (!packet.topic.startsWith('$SYS/')) this.metrics.brokerBytes.inc(packet.payload.length);
    });
    const server = createServer((socket) => {
      // signaling is small messages: no Nagle wait for a delayed ACK (~40 ms)
      socket.setNoDelay(true);
      broker.handle(socket);
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.config.mqtt.port, this.config.mqtt.host, () => resolve());
    });
    const address = server.address() as AddressInfo;
    const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
    this.brokerUrl = `mqtt://${host}:${address.port}`;
    this.broker = broker;
    this.server = server;
    this.logger.log(`embedded MQTT broker (aedes, MQTT 3.1.1) on ${this.brokerUrl}`);
    return broker;
  }

  private async authenticate(
    client: Client,
    username: string | undefined,
    password: Buffer | undefined,
  ): Promise<boolean> {
    if (!username || !password || password.length > 1024) return false;
    const secret = password.toString('utf8');
    if (username === REGISTRAR_USERNAME) {
      if (!equalSecrets(secret, this.registrarPassword)) return false;
      this.identities.set(client, { kind: 'registrar' });
      return true;
    }
    // Devices: username = device id, and the client id must be bound to it (D or
    // pf-agent-D, the edge agent's choice), so that no device can take over (and kick off)
    // another device's session.
    if (!UUID.test(username) || !deviceClientIds(username).includes(client.id)) return false;
    const credential = await this.devices.mqttCredential(username);
    if (!credential || !equalSecrets(sha256Hex(secret), credential.passwordHash)) return false;
    this.identities.set(client, { kind: 'device', deviceId: username });
    return true;
  }

  /**
   * The embedded broker: the registrar subscribes and publishes in process (other replicas
   * join it as MQTT clients with MQTT_PASSWORD). It has no retained messages to catch up
   * on: it started with this process.
   */
  private async attachInProcess(broker: Aedes): Promise<void> {
    const deliver = (packet: { topic: string; payload: Buffer | string }, done: () => void) => {
      this.onMessage(packet.topic, Buffer.from(packet.payload)).catch((error: unknown) =>
        this.logger.error({ err: error, topic: packet.topic }, 'MQTT message handling failed'),
      );
      done();
    };
    for (const filter of REGISTRAR_SUBSCRIPTIONS) {
      await new Promise<void>((resolve) => broker.subscribe(filter, deliver, resolve));
    }
    this.link = inProcessLink(broker);
    this.listeningSince = new Date();
  }

  /** An external broker: the registrar's own MQTT client, reconnecting. */
  private async connectClient(url: string): Promise<void> {
    const client = await mqtt.connectAsync(url, {
      clientId: `pf-registrar-${randomUUID()}`,
      username: this.config.mqtt.username,
      password: this.config.mqtt.password,
      protocolVersion: 4,
      clean: true,
      reconnectPeriod: 1000,
    });
    // the same for the registrar's own client (mqtt.js leaves Nagle on), on every connection
    const noDelay = (): void =>
      (client.stream as { setNoDelay?: (on: boolean) => void } | undefined)?.setNoDelay?.(true);
    noDelay();
    client.on('message', (topic, payload) => {
      this.onMessage(topic, payload).catch((error: unknown) =>
        this.logger.error({ err: error, topic }, 'MQTT message handling failed'),
      );
    });
    client.on('error', (error) => this.logger.warn({ err: error }, 'MQTT client error'));
    client.on('connect', () => {
      noDelay();
      this.listeningSince = new Date();
    });
    client.on('close', () => (this.listeningSince = undefined));
    try {
      if (this.config.mqtt.provisioning === 'dynsec') await this.startDynsec(client);
      await client.subscribeAsync([...REGISTRAR_SUBSCRIPTIONS], { qos: 1 });
    } catch (error) {
      this.dynsecClient?.detach();
      await client.endAsync(true).catch(() => undefined);
      throw error;
    }
    this.client = client;
    this.link = clientLink(client);
    // the first CONNACK came before the listener above; subscriptions are in place now
    this.listeningSince ??= new Date();
  }

  /**
   * MQTT_PROVISIONING=dynsec at boot: the account must be a dynsec admin (it subscribes to
   * the plugin's answers and gives itself the `pf-registrar` role); otherwise the boot
   * fails with the reason. Then one sweep now, one after every reconnect, one every 5 min.
   */
  private async startDynsec(client: MqttClient): Promise<void> {
    const dynsecClient = new DynsecClient(client, this.config.mqtt.provisioningTimeoutMs);
    this.dynsecClient = dynsecClient;
    try {
      await dynsecClient.attach();
      const provisioner = new DynsecProvisioner(dynsecClient);
      await provisioner.ensureRegistrarAccess(this.config.mqtt.username ?? '', () =>
        reconnectedAfterKick(client, this.config.mqtt.provisioningTimeoutMs + 5_000),
      );
      this.dynsec = provisioner;
    } catch (error) {
      if (error instanceof DynsecError) {
        throw new Error(
          `MQTT_PROVISIONING=dynsec: cannot manage the broker's dynamic security (${error.code}): ${error.message}`,
          { cause: error },
        );
      }
      throw error;
    }
    this.scheduleReconcile();
    client.on('connect', () => this.scheduleReconcile());
    this.reconcileTimer = setInterval(() => this.scheduleReconcile(), RECONCILE_INTERVAL_MS);
    this.reconcileTimer.unref();
    this.logger.log('MQTT provisioning: Mosquitto dynamic security (per-device accounts and ACLs)');
  }

  private emitPresence(deviceId: string, orgId: string, status: 'online' | 'offline'): void {
    const event = { deviceId, orgId, status };
    for (const h of this.presenceHandlers) h(event);
  }

  /**
   * Runs a device's presence updates one after another, in the order its messages arrived:
   * each awaits the database, and a heartbeat overtaking the offline status sent after it
   * would otherwise turn a stopped device back online.
   */
  private inDeviceOrder(deviceId: string, task: () => Promise<void>): Promise<void> {
    const previous = this.presenceQueues.get(deviceId) ?? Promise.resolve();
    const current = previous.then(task);
    const settled = current.catch(() => undefined);
    this.presenceQueues.set(deviceId, settled);
    void settled.then(() => {
      if (this.presenceQueues.get(deviceId) === settled) this.presenceQueues.delete(deviceId);
    });
    return current;
  }

  /** One presence sweep at a time; failures are logged (the next interval retries). */
  private schedulePresenceSweep(): void {
    if (this.sweepingPresence) return;
    this.sweepingPresence = this.sweepPresence()
      .then(
        () => undefined,
        (error: unknown) => this.logger.warn({ err: error }, 'presence sweep failed; will retry'),
      )
      .finally(() => {
        this.sweepingPresence = undefined;
      });
  }

  /**
   * The presence backstop (PRESENCE_TIMEOUT_HEARTBEATS): devices the database still shows
   * online but nobody has heard from are marked offline. A last will covers a lost agent;
   * this covers what no will reports, e.g. the broker itself crashed or restarted without
   * its retained messages and the device never came back. The replica that marked a device
   * publishes a retained offline status for it (reason `timeout`), so every replica pushes
   * the change to its consoles and a stale retained "online" is replaced (should that
   * publish fail, it tells its own consoles).
   */
  async sweepPresence(now = new Date()): Promise<number> {
    // Disconnected, this replica hears nobody: that says nothing about the devices (other
    // replicas may hear them), so it does not judge. Reconnected, it gives every device a
    // full timeout from then, during which the retained statuses and heartbeats arrive.
    const listeningSince = this.link?.connected ? this.listeningSince : undefined;
    if (!listeningSince) return 0;
    const silent = await this.devices.markSilentOffline({
      now,
      listeningSince,
      heartbeats: this.config.presence.timeoutHeartbeats,
      graceMs: this.config.presence.graceMs,
      defaultHeartbeatS: DEFAULT_HEARTBEAT_S,
    });
    if (silent.length === 0) return 0;
    this.logger.log(`presence timeout: ${silent.length} device(s) marked offline`);
    const link = this.link;
    const payload = JSON.stringify({
      state: 'offline',
      reason: PRESENCE_TIMEOUT_REASON,
      ts: now.getTime(),
    });
    for (const { deviceId, orgId } of silent) {
      if (link?.connected) {
        this.metrics.mqttBytesOut.inc(payload.length);
        try {
          await link.publish(deviceTopic(deviceId, 'status'), payload, { retain: true });
          continue;
        } catch (error) {
          this.logger.warn({ err: error, deviceId }, 'publishing a timed-out status failed');
        }
      }
      this.emitPresence(deviceId, orgId, 'offline');
    }
    return silent.length;
  }

  private async onMessage(topic: string, payload: Buffer): Promise<void> {
    this.metrics.mqttBytesIn.inc(payload.length);
    const t = parseDeviceTopic(topic);
    if (!t || payload.length === 0 || payload.length > 16 * 1024) return;
    let json: unknown;
    try {
      json = JSON.parse(payload.toString('utf8'));
    } catch {
      return;
    }
    const at = new Date();
    if (t.kind === 'status') {
      const s = statusSchema.safeParse(json);
      if (!s.success) return;
      await this.inDeviceOrder(t.deviceId, async () => {
        const updated = await this.devices.updatePresence(t.deviceId, {
          status: s.data.state,
          at: s.data.reason === PRESENCE_TIMEOUT_REASON ? undefined : at,
          agentVersion: s.data.agentVersion,
        });
        if (updated) this.emitPresence(t.deviceId, updated.orgId, s.data.state);
      });
    } else if (t.kind === 'heartbeat') {
      const h = heartbeatSchema.safeParse(json);
      if (!h.success) return;
      const { agentVersion, ...metrics } = h.data;
      await this.inDeviceOrder(t.deviceId, async () => {
        const updated = await this.devices.updateHeartbeat(t.deviceId, {
          metrics,
          at,
          agentVersion,
        });
        if (updated?.cameOnline) this.emitPresence(t.deviceId, updated.orgId, 'online');
      });
    } else if (t.kind === 'signal/out') {
      for (const h of this.signalHandlers) h(t.deviceId, json);
    } else if (t.kind === 'audit') {
      const a = agentAuditSchema.safeParse(json);
      if (!a.success) return;
      const orgId = await this.devices.orgOfActive(t.deviceId);
      if (!orgId) return;
      // The agent's record of the requests it served (it enforces the grants): method, path,
      // status and size, never bodies.
      await this.audit.recordMany(
        a.data.events.map((e) => ({
          orgId,
          actorType: 'user' as const,
          actorId: e.user,
          action: 'device.request' as const,
          targetType: 'device',
          targetId: t.deviceId,
          details: {
            sessionId: e.sessionId,
            method: e.method,
            path: e.path,
            status: e.status,
            bytes: e.bytes,
            deviceTs: e.ts,
          },
          sourceIp: null,
        })),
      );
    }
  }
}
