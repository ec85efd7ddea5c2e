// The agent's MQTT link to the registrar's broker.
//
// - Per-device credentials (username = device id); MQTT 3.1.1 (what every supported broker,
//   the embedded aedes included, speaks).
// - Presence: last will = retained `{"state":"offline"}` on `status`; on every connect a
//   retained `{"state":"online"}`; on a clean stop a retained offline before disconnecting.
// - Subscribes to its own `signal/in` only; payloads are validated (zod) and malformed ones
//   dropped with a log line (field names only, never values); the handler's errors are
//   caught: a bad message can never crash the agent.
// - Heartbeat with metrics every `heartbeatIntervalMs` while connected (and once on connect),
//   announcing that interval (`heartbeatS`): the registrar's presence timeout counts in it.
// - TCP_NODELAY on the broker connection: signaling latency, not throughput.
// - Reconnect: mqtt.js only has a fixed `reconnectPeriod`, so it is 0 here and the link
//   reconnects itself after a capped exponential backoff with jitter (backoff.ts); the
//   attempt counter resets on a successful connect.
import { EventEmitter } from 'node:events';
import mqtt, { type MqttClient } from 'mqtt';
import type { Logger } from '../log.js';
import type { Heartbeat } from '../metrics.js';
import { type BackoffOptions, backoffDelay } from './backoff.js';
import {
  type DeviceTopics,
  type SignalIn,
  type SignalOut,
  type StatusPayload,
  deviceTopics,
  parseSignalIn,
} from './topics.js';

export type LinkState = 'idle' | 'connecting' | 'online' | 'offline' | 'stopped';

export interface MqttLinkOptions {
  url: string;
  username: string;
  password: string;
  deviceId: string;
  agentVersion: string;
  heartbeatIntervalMs: number;
  collectHeartbeat: () => Promise<Heartbeat>;
  onSignal: (message: SignalIn) => void | Promise<void>;
  /** Called after each (re)connect, e.g. to sync the audit log. Errors are logged. */
  onOnline?: () => void | Promise<void>;
  log: Logger;
  backoff?: BackoffOptions;
  connectTimeoutMs?: number;
  keepaliveS?: number;
  now?: () => number;
}

export interface MqttLinkEvents {
  state: [LinkState];
}

export class MqttLink extends EventEmitter<MqttLinkEvents> {
  readonly topics: DeviceTopics;
  private client: MqttClient | undefined;
  private attempt = 0;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private heartbeatTimer: NodeJS.Timeout | undefined;
  private currentState: LinkState = 'idle';
  private readonly now: () => number;

  constructor(private readonly options: MqttLinkOptions) {
    super();
    this.topics = deviceTopics(options.deviceId);
    this.now = options.now ?? Date.now;
  }

  get state(): LinkState {
    return this.currentState;
  }

  /** Number of connection attempts since the last successful connect. */
  get failedAttempts(): number {
    return this.attempt;
  }

  private setState(state: LinkState): void {
    if (state === this.currentState) return;
    this.currentState = state;
    this.emit('state', state);
  }

  private status(state: StatusPayload['state']): string {
    const payload: StatusPayload = {
      state,
      agentVersion: this.options.agentVersion,
      ts: this.now(),
    };
    return JSON.stringify(payload);
  }

  start(): void {
    if (this.currentState !== 'idle') throw new Error('MqttLink.start() called twice');
    this.connect();
  }

  private connect(): void {
    if (this.currentState === 'stopped') return;
    this.setState('connecting');
    const o = this.options;
    const client = mqtt.connect(o.url, {
      protocolVersion: 4,
      clientId: `pf-agent-${o.deviceId}`,
      username: o.username,
      password: o.password,
      clean: true,
      keepalive: o.keepaliveS ?? 30,
      connectTimeout: o.connectTimeoutMs ?? 10_000,
      reconnectPeriod: 0,
      will: {
        topic: this.topics.status,
        payload: Buffer.from(this.status('offline')),
        qos: 1,
        retain: true,
      },
    });
    this.client = client;
    // Signaling is a few small messages each way: with Nagle's algorithm on, a message
    // written while the previous one (often a 4-byte PUBACK) is unacknowledged waits for the
    // broker's delayed ACK, ~40 ms on Linux. Measured: an answer's PUBLISH sat 39–47 ms in
    // 15 of 20 sessions (docs/performance.md, "The whole system").
    (client.stream as { setNoDelay?: (noDelay: boolean) => void } | undefined)?.setNoDelay?.(true);
    let closed = false;

    client.on('connect', () => {
      this.attempt = 0;
      this.setState('online');
      o.log.info({ url: o.url }, 'mqtt connected');
      client.publish(this.topics.status, this.status('online'), { qos: 1, retain: true }, (err) => {
        if (err) o.log.warn({ err: err.message }, 'mqtt: publishing online status failed');
      });
      client.subscribe(this.topics.signalIn, { qos: 1 }, (err) => {
        if (err) o.log.error({ err: err.message }, 'mqtt: subscribe to signal/in failed');
      });
      this.startHeartbeat();
      if (o.onOnline) {
        Promise.resolve()
          .then(o.onOnline)
          .catch((err: unknown) => o.log.warn({ err: String(err) }, 'mqtt: onOnline failed'));
      }
    });

    client.on('message', (topic, payload) => {
      if (topic !== this.topics.signalIn) return;
      const parsed = parseSignalIn(payload);
      if (!parsed.ok) {
        o.log.warn(
          { topic, bytes: payload.length, reason: parsed.reason },
          'mqtt: dropped malformed signal',
        );
        return;
      }
      try {
        Promise.resolve(o.onSignal(parsed.message)).catch((err: unknown) =>
          o.log.error({ err: String(err), type: parsed.message.type }, 'signal handler failed'),
        );
      } catch (err) {
        o.log.error({ err: String(err), type: parsed.message.type }, 'signal handler failed');
      }
    });

    client.on('error', (err) => {
      o.log.warn({ err: err.message }, 'mqtt error');
    });

    client.on('close', () => {
      if (closed) return;
      closed = true;
      this.stopHeartbeat();
      if (this.client !== client || this.currentState === 'stopped') return;
      client.end(true);
      this.setState('offline');
      const delay = backoffDelay(this.attempt, o.backoff);
      this.attempt += 1;
      o.log.info({ delayMs: delay, attempt: this.attempt }, 'mqtt disconnected; reconnecting');
      this.reconnectTimer = setTimeout(() => {
        this.reconnectTimer = undefined;
        this.connect();
      }, delay);
    });
  }

  private startHeartbeat(): void {
    this.stopHeartbeat();
    const beat = (): void => {
      const client = this.client;
      if (!client?.connected) return;
      this.options
        .collectHeartbeat()
        .then((hb) => {
          // the interval lets the registrar tell a silent device from a slow one
          const heartbeatS = Math.max(1, Math.round(this.options.heartbeatIntervalMs / 1000));
          client.publish(this.topics.heartbeat, JSON.stringify({ ...hb, heartbeatS }), {
            qos: 0,
          });
        })
        .catch((err: unknown) => this.options.log.warn({ err: String(err) }, 'heartbeat failed'));
    };
    beat();
    this.heartbeatTimer = setInterval(beat, this.options.heartbeatIntervalMs);
  }

  private stopHeartbeat(): void {
    if (this.heartbeatTimer) clearInterval(this.heartbeatTimer);
    this.heartbeatTimer = undefined;
  }

  private publishQos1(topic: string, payload: string, retain = false): Promise<void> {
    const client = this.client;
    if (!client?.connected) return Promise.reject(new Error('mqtt link is not connected'));
    return new Promise((resolve, reject) => {
      client.publish(topic, payload, { qos: 1, retain }, (err) => (err ? reject(err) : resolve()));
    });
  }

  publishSignal(message: SignalOut): Promise<void> {
    return this.publishQos1(this.topics.signalOut, JSON.stringify(message));
  }

  /** Resolves once the broker acknowledged (QoS 1): safe to move the audit cursor. */
  publishAudit(events: readonly object[]): Promise<void> {
    return this.publishQos1(this.topics.audit, JSON.stringify({ events }));
  }

  /** Publishes the retained offline status (best effort, bounded) and disconnects. */
  async stop(timeoutMs = 3000): Promise<void> {
    if (this.currentState === 'stopped') return;
    const wasOnline = this.client?.connected === true;
    this.setState('stopped');
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    this.stopHeartbeat();
    const client = this.client;
    if (!client) return;
    const bounded = <T>(p: Promise<T>): Promise<T | undefined> =>
      Promise.race([
        p,
        new Promise<undefined>((r) => setTimeout(() => r(undefined), timeoutMs).unref()),
      ]);
    if (wasOnline) {
      await bounded(this.publishQos1(this.topics.status, this.status('offline'), true)).catch(
        () => undefined,
      );
    }
    await bounded(client.endAsync(!wasOnline)).catch(() => undefined);
    client.end(true);
  }
}
