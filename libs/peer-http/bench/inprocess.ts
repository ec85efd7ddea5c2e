// In-process micro-bench (no WebRTC): the cost of peer-http itself. Two sessions over a
// transport pair that delivers each message in the next macrotask (setImmediate), like a
// channel with no latency. For profiling: `node --cpu-prof --import tsx bench/inprocess.ts`.
// CPU per GET (user + system, both sessions) moves far less than wall time when other work
// competes for the CPU. The small GET runs twice: with the fetch API (fetch() → a fetch-style
// handler) and with the core API (request() → a coreHandler). Knobs: INPROC_GETS (sequential
// small GETs, default 5000), INPROC_BODY (bytes, 256 MiB).
import { createPeerHttp } from '../src/index.js';
import type { Transport } from '../src/transport.js';

class ImmediateTransport implements Transport {
  readonly maxMessageSize = 262144;
  bufferedAmount = 0;
  bufferedAmountLowThreshold = 0;
  isOpen = true;
  peer!: ImmediateTransport;
  private message: ((m: Uint8Array) => void) | undefined;
  private low: (() => void) | undefined;
  private closeListener: ((e?: Error) => void) | undefined;
  private queue: Uint8Array[] = [];
  private scheduled = false;

  send(message: Uint8Array): void {
    this.queue.push(message.slice());
    this.bufferedAmount += message.length;
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.pump());
    }
  }
  private pump(): void {
    this.scheduled = false;
    const before = this.bufferedAmount;
    for (const m of this.queue.splice(0)) {
      this.bufferedAmount -= m.length;
      this.peer.message?.(m);
    }
    if (before > this.bufferedAmountLowThreshold) this.low?.();
  }
  close(): void {
    if (!this.isOpen) return;
    this.isOpen = false;
    this.peer.isOpen = false;
    setImmediate(() => {
      this.closeListener?.();
      this.peer.closeListener?.();
    });
  }
  onMessage(l: ((m: Uint8Array) => void) | undefined): void {
    this.message = l;
  }
  onBufferedAmountLow(l: (() => void) | undefined): void {
    this.low = l;
  }
  onClose(l: ((e?: Error) => void) | undefined): void {
    this.closeListener = l;
  }
}

const GETS = Number(process.env['INPROC_GETS'] ?? 5000);
const BODY = Number(process.env['INPROC_BODY'] ?? 256 * 1024 * 1024);
const CHUNK = new Uint8Array(65536).fill(0x5a);
const SMALL = new TextEncoder().encode('pong');

function transportPair(): [ImmediateTransport, ImmediateTransport] {
  const a = new ImmediateTransport();
  const b = new ImmediateTransport();
  a.peer = b;
  b.peer = a;
  return [a, b];
}

const [a, b] = transportPair();
const server = createPeerHttp(a, {
  handler: (request) => {
    const url = new URL(request.url);
    if (url.pathname === '/small') return new Response(SMALL);
    let left = Number(url.searchParams.get('n'));
    return new Response(
      new ReadableStream<Uint8Array>(
        {
          pull(c) {
            if (left <= 0) return c.close();
            const n = Math.min(left, CHUNK.length);
            left -= n;
            c.enqueue(CHUNK.subarray(0, n));
          },
        },
        { highWaterMark: 0 },
      ),
    );
  },
});
const client = createPeerHttp(b);

const [coreA, coreB] = transportPair();
const coreServer = createPeerHttp(coreA, {
  coreHandler: () => ({ status: 200, body: SMALL }),
});
const coreClient = createPeerHttp(coreB);

const p50 = (xs: number[]) => xs[Math.floor(xs.length / 2)]!.toFixed(3);
/** GETS sequential calls of `request` (after 200 warm-up ones): times and CPU per call. */
async function measure(name: string, request: () => Promise<unknown>): Promise<void> {
  for (let i = 0; i < 200; i++) await request();
  const rtts: number[] = [];
  const started = performance.now();
  const cpuBefore = process.cpuUsage();
  for (let i = 0; i < GETS; i++) {
    const t = performance.now();
    await request();
    rtts.push(performance.now() - t);
  }
  const ms = performance.now() - started;
  const cpu = process.cpuUsage(cpuBefore);
  rtts.sort((x, y) => x - y);
  console.log(
    `${name} p50 ${p50(rtts)} ms p90 ${rtts[Math.floor(rtts.length * 0.9)]!.toFixed(3)} p99 ${rtts[Math.floor(rtts.length * 0.99)]!.toFixed(3)} (${((ms / GETS) * 1000).toFixed(0)} µs mean, CPU ${((cpu.user + cpu.system) / GETS).toFixed(1)} µs each)`,
  );
}

await measure('small GET, fetch API', async () => (await client.get('/small')).arrayBuffer());
await measure('small GET, core API', async () =>
  (await coreClient.request({ target: '/small' })).bytes(),
);
await measure('PING', () => client.ping());
await coreClient.close();
await coreServer.close().catch(() => undefined);

const started = performance.now();
const response = await client.get(`/bytes?n=${BODY}`);
const reader = response.body!.getReader();
let got = 0;
for (;;) {
  const { done, value } = await reader.read();
  if (done) break;
  got += value.length;
}
const seconds = (performance.now() - started) / 1000;
console.log(
  `body ${(got / 1048576).toFixed(0)} MiB at ${(got / 1048576 / seconds).toFixed(1)} MiB/s`,
);
await client.close();
await server.close().catch(() => undefined);
