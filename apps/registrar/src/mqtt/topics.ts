// The MQTT topic contract between the registrar and agents (docs/signaling.md).
// Device id D is a UUID; prefix pf/v1/dev/{D}/.
export const TOPIC_PREFIX = 'pf/v1/dev/';

export type DeviceTopicKind = 'status' | 'heartbeat' | 'signal/in' | 'signal/out' | 'audit';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const KINDS: ReadonlySet<string> = new Set([
  'status',
  'heartbeat',
  'signal/in',
  'signal/out',
  'audit',
]);

export function deviceTopic(deviceId: string, kind: DeviceTopicKind): string {
  return `${TOPIC_PREFIX}${deviceId}/${kind}`;
}

/** Parses `pf/v1/dev/{uuid}/{kind}`; anything else (wildcards included) is null. */
export function parseDeviceTopic(
  topic: string,
): { deviceId: string; kind: DeviceTopicKind } | null {
  if (!topic.startsWith(TOPIC_PREFIX)) return null;
  const rest = topic.slice(TOPIC_PREFIX.length);
  const slash = rest.indexOf('/');
  if (slash < 0) return null;
  const deviceId = rest.slice(0, slash);
  const kind = rest.slice(slash + 1);
  if (!UUID.test(deviceId) || !KINDS.has(kind)) return null;
  return { deviceId, kind: kind as DeviceTopicKind };
}

/** The MQTT client id of the edge agent for device D (src/mqtt/link.ts of apps/edge-agent). */
export function agentClientId(deviceId: string): string {
  return `pf-agent-${deviceId}`;
}

/** Who is on the other end of an MQTT connection. */
export type MqttIdentity = { kind: 'registrar' } | { kind: 'device'; deviceId: string };

/** The topics a device publishes on (its own only); it subscribes to its signal/in alone. */
export const DEVICE_PUBLISH_KINDS: readonly DeviceTopicKind[] = [
  'status',
  'heartbeat',
  'signal/out',
  'audit',
];
const DEVICE_PUBLISH: ReadonlySet<DeviceTopicKind> = new Set(DEVICE_PUBLISH_KINDS);

/** The registrar hears every device's published topics (one `+` filter per kind). */
export const REGISTRAR_SUBSCRIPTIONS: readonly string[] = DEVICE_PUBLISH_KINDS.map(
  (kind) => `${TOPIC_PREFIX}+/${kind}`,
);

/** Device D may publish only pf/v1/dev/D/{status,heartbeat,signal/out,audit}. */
export function canPublish(who: MqttIdentity, topic: string): boolean {
  if (who.kind === 'registrar') return true;
  const t = parseDeviceTopic(topic);
  return t !== null && t.deviceId === who.deviceId && DEVICE_PUBLISH.has(t.kind);
}

/** Device D may subscribe only pf/v1/dev/D/signal/in (no wildcards). */
export function canSubscribe(who: MqttIdentity, topicFilter: string): boolean {
  if (who.kind === 'registrar') return true;
  return topicFilter === deviceTopic(who.deviceId, 'signal/in');
}
