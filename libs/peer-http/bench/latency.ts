// Where a small GET's time goes, over a real node-datachannel pair in one process:
// p50 of each step from `fetch()` to the body read (run inside the network namespace:
// `../../scripts/netns-run.sh npx tsx bench/latency.ts`). LATENCY_N: GETs (default 1500).
import { createPeerHttp } from '../src/index.js';
import type { Transport } from '../src/transport.js';
import { cleanupNodeDataChannel, connectNodePair } from '../test/webrtc/node-pair.js';

const N = Number(process.env['LATENCY_N'] ?? 1500);
const marks = new Map<string, number>();
const mark = (name: string): void => {
  if (!marks.has(name)) marks.set(name, performance.now());
};

/** Records the first send and the first received message of each side per GET. */
function instrument(t: Transport, side: string): Transport {
  const send = t.send.bind(t);
  t.send = (message) => {
    mark(`${side} sends`);
    send(message);
  };
  const onMessage = t.onMessage.bind(t);
  t.onMessage = (listener) =>
    onMessage(
      listener &&
        ((message) => {
          mark(`${side} receives`);
          listener(message);
        }),
    );
  return t;
}

const pair = await connectNodePair();
const SMALL = new TextEncoder().encode('pong');
const server = createPeerHttp(instrument(pair.a, 'server'), {
  handler: () => {
    mark('handler called');
    return new Response(SMALL);
  },
});
const client = createPeerHttp(instrument(pair.b, 'client'));
const steps = [
  'client sends',
  'server receives',
  'handler called',
  'server sends',
  'client receives',
  'response headers',
  'body read',
];
const times = new Map<string, number[]>(steps.map((s) => [s, []]));
const pings: number[] = [];
for (let i = 0; i < N + 100; i++) {
  marks.clear();
  const started = performance.now();
  const response = await client.get('/small');
  mark('response headers');
  await response.arrayBuffer();
  mark('body read');
  const pingStarted = performance.now();
  await client.ping();
  if (i < 100) continue; // warm-up
  pings.push(performance.now() - pingStarted);
  let previous = started;
  for (const step of steps) {
    const at = marks.get(step) ?? NaN;
    times.get(step)?.push(at - previous);
    previous = at;
  }
}
const p50 = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1] ?? NaN;
let total = 0;
for (const step of steps) {
  const us = p50(times.get(step) ?? []) * 1000;
  total += us;
  console.log(`${step.padEnd(18)} +${us.toFixed(0).padStart(4)} µs`);
}
console.log(`sum of step p50s    ${total.toFixed(0).padStart(4)} µs`);
console.log(`peer-http PING p50  ${(p50(pings) * 1000).toFixed(0).padStart(4)} µs`);
await client.close();
await server.close().catch(() => undefined);
await pair.close();
cleanupNodeDataChannel();
