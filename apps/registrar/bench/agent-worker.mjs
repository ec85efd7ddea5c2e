// One process simulating many edge agents for the signaling benchmark (forked by
// signaling-bench.mjs): each agent is an mqtt.js client with the device's own credentials
// that publishes its retained presence, subscribes to signal/in and answers every offer.
// Messages from the parent (IPC): {type:'connect', agents:[{deviceId,url,username,password}]}
// → {type:'connected', connected, failed, firstError}; {type:'stop'} → closes and exits.
import mqtt from 'mqtt';

const CONNECT_CONCURRENCY = Number(process.env.BENCH_CONNECT_CONCURRENCY ?? 100);
const clients = [];

async function connectAgent(a) {
  const client = await mqtt.connectAsync(a.url, {
    clientId: `pf-agent-${a.deviceId}`, // as the edge agent: dynsec binds the account to it
    username: a.username,
    password: a.password,
    reconnectPeriod: 0,
    keepalive: 300,
    connectTimeout: 60_000,
  });
  // as the edge agent does (apps/edge-agent/src/mqtt/link.ts): without it, an answer written
  // while a PUBACK is unacknowledged waits ~40 ms for the broker's delayed ACK (Nagle)
  client.stream?.setNoDelay?.(true);
  const out = `pf/v1/dev/${a.deviceId}/signal/out`;
  client.on('message', (_topic, payload) => {
    const m = JSON.parse(payload.toString());
    if (m.type === 'offer') {
      client.publish(
        out,
        JSON.stringify({ type: 'answer', sessionId: m.sessionId, sdp: 'v=0 answer' }),
        { qos: 1 },
      );
    }
  });
  client.on('error', () => undefined);
  await client.subscribeAsync(`pf/v1/dev/${a.deviceId}/signal/in`, { qos: 1 });
  await client.publishAsync(
    `pf/v1/dev/${a.deviceId}/status`,
    JSON.stringify({ state: 'online', agentVersion: 'bench', ts: Date.now() }),
    { qos: 1, retain: true },
  );
  clients.push(client);
}

process.on('message', async (msg) => {
  if (msg.type === 'connect') {
    let next = 0;
    let failed = 0;
    let firstError;
    await Promise.all(
      Array.from({ length: CONNECT_CONCURRENCY }, async () => {
        while (next < msg.agents.length) {
          const a = msg.agents[next++];
          try {
            await connectAgent(a);
          } catch (error) {
            failed++;
            firstError ??= String(error);
          }
        }
      }),
    );
    process.send({ type: 'connected', connected: clients.length, failed, firstError });
  } else if (msg.type === 'stop') {
    await Promise.all(clients.map((c) => c.endAsync(true).catch(() => undefined)));
    process.exit(0);
  }
});
