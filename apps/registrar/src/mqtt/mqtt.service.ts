// The registrar's MQTT side.
// - Embedded default: an aedes broker (MQTT 3.1.1) on MQTT_HOST:MQTT_PORT (18830), with
//   per-device authentication (username = client id = device id, password checked against
//   the stored SHA-256) and the topic ACL of topics.ts. External broker (MQTT_URL): the
//   broker enforces credentials and ACLs itself (docs/operations.md).
// - In both cases the registrar connects as an ordinary MQTT client and subscribes to the
//   devices' status and heartbeat topics: presence and metrics go to the database.
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
import {
  canPublish,
  canSubscribe,
  deviceTopic,
  type MqttIdentity,
  parseDeviceTopic,
  TOPIC_PREFIX,
} from './topics.js';

const REGISTRAR_USERNAME = 'pf-registrar';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

const statusSchema = z.object({
  state: z.enum(['online', 'offline']),
  agentVersion: z.string().max(64).optional(),
  ts: z.number().optional(),
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
  return [deviceId, `pf-agent-${deviceId}`];
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

@Injectable()
export class MqttService implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger('Mqtt');
  private broker: Aedes | undefined;
  private server: Server | undefined;
  private client: MqttClient | undefined;
  private readonly identities = new WeakMap<Client, MqttIdentity>();
  private readonly registrarPassword: string;
  private brokerUrl = '';
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
    return this.client?.connected ?? false;
  }

  async onModuleInit(): Promise<void> {
    if (!this.config.mqtt.url) await this.startEmbeddedBroker();
    await this.connectClient();
  }

  async onApplicationShutdown(): Promise<void> {
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
    const client = this.client;
    if (!client?.connected) throw new Error('MQTT broker unavailable');
    const payload = Buffer.from(JSON.stringify(message));
    this.metrics.mqttBytesOut.inc(payload.length);
    await client.publishAsync(deviceTopic(deviceId, 'signal/in'), payload, { qos: 1 });
  }

  /** Drops a device's live MQTT connection (after key revocation or deletion). */
  disconnectDevice(deviceId: string): void {
    const clients = (this.broker as unknown as { clients?: Record<string, Client> } | undefined)
      ?.clients;
    for (const id of deviceClientIds(deviceId)) clients?.[id]?.close();
  }

  private async startEmbeddedBroker(): Promise<void> {
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
    const server = createServer((socket) => broker.handle(socket));
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

  private async connectClient(): Promise<void> {
    const embedded = !this.config.mqtt.url;
    const url = this.config.mqtt.url ?? this.brokerUrl;
    const client = await mqtt.connectAsync(url, {
      clientId: `pf-registrar-${randomUUID()}`,
      username: embedded ? REGISTRAR_USERNAME : this.config.mqtt.username,
      password: embedded ? this.registrarPassword : this.config.mqtt.password,
      protocolVersion: 4,
      clean: true,
      reconnectPeriod: 1000,
    });
    client.on('message', (topic, payload) => {
      this.onMessage(topic, payload).catch((error: unknown) =>
        this.logger.error({ err: error, topic }, 'MQTT message handling failed'),
      );
    });
    client.on('error', (error) => this.logger.warn({ err: error }, 'MQTT client error'));
    await client.subscribeAsync(
      [
        `${TOPIC_PREFIX}+/status`,
        `${TOPIC_PREFIX}+/heartbeat`,
        `${TOPIC_PREFIX}+/signal/out`,
        `${TOPIC_PREFIX}+/audit`,
      ],
      { qos: 1 },
    );
    this.client = client;
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
      const updated = await this.devices.updatePresence(t.deviceId, {
        status: s.data.state,
        at,
        agentVersion: s.data.agentVersion,
      });
      if (updated) {
        const event = { deviceId: t.deviceId, orgId: updated.orgId, status: s.data.state };
        for (const h of this.presenceHandlers) h(event);
      }
    } else if (t.kind === 'heartbeat') {
      const h = heartbeatSchema.safeParse(json);
      if (!h.success) return;
      const { agentVersion, ...metrics } = h.data;
      await this.devices.updateHeartbeat(t.deviceId, { metrics, at, agentVersion });
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
