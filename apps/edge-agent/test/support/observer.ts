// A registrar-side MQTT client that records what it sees on a device's topics.
import mqtt, { type MqttClient } from 'mqtt';
import { waitFor } from './mosquitto.js';

export interface Seen {
  topic: string;
  retain: boolean;
  json: Record<string, unknown> | undefined;
}

export interface Observer {
  client: MqttClient;
  seen: Seen[];
  waitFor(what: string, match: (m: Seen) => boolean, from?: number): Promise<Seen>;
  close(): Promise<void>;
}

export async function observe(
  url: string,
  filter: string,
  auth: { username?: string; password?: string } = {},
): Promise<Observer> {
  const client = await mqtt.connectAsync(url, { reconnectPeriod: 0, ...auth });
  const seen: Seen[] = [];
  client.on('message', (topic, payload, packet) => {
    let json: Record<string, unknown> | undefined;
    try {
      json =
        payload.length > 0
          ? (JSON.parse(payload.toString()) as Record<string, unknown>)
          : undefined;
    } catch {
      json = undefined;
    }
    seen.push({ topic, retain: packet.retain, json });
  });
  await client.subscribeAsync(filter, { qos: 1 });
  return {
    client,
    seen,
    waitFor: (what, match, from = 0) => waitFor(what, () => seen.slice(from).find(match)),
    close: () => client.endAsync(true),
  };
}
