// `npm run bench` (inside the loopback-only namespace): peer-http against a raw DataChannel
// and plain HTTP on loopback TCP, in one run on one machine. Prints a table and writes
// artifacts/bench/peer-http.json. The serving side ("agent") is a separate process
// (bench/agent.ts); the client side is this process (node-datachannel) or a Chromium page.
//
// Environment knobs (bytes / counts): BENCH_BODY (throughput body, default 64 MiB),
// BENCH_RUNS (throughput runs, 5), BENCH_SETUP_N (30), BENCH_SMALL_N (1000),
// BENCH_SMALL_WARMUP (warm-up calls per small-request variant, 1000),
// BENCH_CONCURRENT (1000), BENCH_SLOW_TOTAL (1 GiB), BENCH_SLOW_RATE (32 MiB/s),
// BENCH_LATE_REPLY_US (150: the reference ping-pong whose responder works that long first);
// BENCH_SECTIONS: comma-separated subset of setup,node,chromium (default: all; Chromium is
// launched only for the sections that use it); BENCH_SKIP_CHROME_SETUP=1: setup without Chromium;
// BENCH_PEER_OPTIONS: JSON of peer-http session options for both sides (default: none);
// BENCH_CPU_PROF: a directory for a V8 CPU profile of the agent process;
// BENCH_OUT: the JSON file to write (default artifacts/bench/peer-http.json).
import { fork, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import nodeDataChannel, { type DataChannel, type PeerConnection } from 'node-datachannel';
import { createPeerFetch } from '../src/index.js';
import { nodeDataChannelTransport } from '../src/node/node-datachannel.js';
import type { Transport } from '../src/transport.js';
import type { SignalMessage } from '../test/webrtc/browser/page.js';
import { takingTurns } from '../test/support/taking-turns.js';
import { ChromiumHarness } from '../test/webrtc/chromium.js';
import { forceOfferSetup, loopbackRtcConfig, type SetupRole } from '../test/webrtc/node-pair.js';
import { measureFetchFloor } from './fetch-floor.js';
import {
  benchPeerOptions,
  rawLateEchoCommand,
  rawSendCommand,
  type AgentMode,
  type FromAgent,
  type ToAgent,
} from './protocol.js';
import { MainThreadMeter } from './thread-cpu.js';

const MiB = 1024 * 1024;
const env = (name: string, fallback: number): number => {
  const value = Number(process.env[name] ?? fallback);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`${name} must be a positive number`);
  return value;
};
const BODY = env('BENCH_BODY', 64 * MiB);
const RUNS = env('BENCH_RUNS', 5);
const SETUP_N = env('BENCH_SETUP_N', 30);
const SMALL_N = env('BENCH_SMALL_N', 1000);
const SMALL_WARMUP = env('BENCH_SMALL_WARMUP', 1000);
const CONCURRENT = env('BENCH_CONCURRENT', 1000);
const SLOW_TOTAL = env('BENCH_SLOW_TOTAL', 1024 * MiB);
const SLOW_RATE = env('BENCH_SLOW_RATE', 32 * MiB);
const LATE_REPLY_US = env('BENCH_LATE_REPLY_US', 150);
const PEER = 'http://peer';
const PEER_OPTIONS = benchPeerOptions();
const SECTIONS = new Set((process.env['BENCH_SECTIONS'] ?? 'setup,node,chromium').split(','));

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
const median = (xs: number[]) => quantile(xs, 0.5);
function quantile(xs: number[], q: number): number {
  const sorted = [...xs].sort((a, b) => a - b);
  if (sorted.length === 0) return NaN;
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return (sorted[lo] ?? NaN) + ((sorted[hi] ?? NaN) - (sorted[lo] ?? NaN)) * (pos - lo);
}
const round = (x: number, digits = 2) => Math.round(x * 10 ** digits) / 10 ** digits;

/** The agent process and its IPC. */
class Agent {
  private listeners = new Set<(m: FromAgent) => void>();
  private nextSession = 1;
  httpPort = 0;

  private constructor(private readonly child: ChildProcess) {
    child.on('message', (m: FromAgent) => {
      if (m.t === 'error') console.error(`agent: ${m.message}`);
      for (const l of [...this.listeners]) l(m);
    });
  }

  static async start(): Promise<Agent> {
    const child = fork(fileURLToPath(new URL('./agent.ts', import.meta.url)), [], {
      execArgv: [
        '--import',
        'tsx',
        '--expose-gc',
        // BENCH_CPU_PROF=dir: a V8 CPU profile of the agent (the serving side) in dir
        ...(process.env['BENCH_CPU_PROF']
          ? ['--cpu-prof', `--cpu-prof-dir=${process.env['BENCH_CPU_PROF']}`]
          : []),
      ],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const agent = new Agent(child);
    const ready = await agent.next((m) => m.t === 'ready');
    if (ready.t === 'ready') agent.httpPort = ready.httpPort;
    return agent;
  }

  send(message: ToAgent): void {
    this.child.send(message);
  }

  on(listener: (m: FromAgent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  next(match: (m: FromAgent) => boolean, timeoutMs = 30_000): Promise<FromAgent> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        off();
        reject(new Error('agent did not answer in time'));
      }, timeoutMs);
      const off = this.on((m) => {
        if (match(m)) {
          clearTimeout(timer);
          off();
          resolve(m);
        }
      });
    });
  }

  session(): number {
    return this.nextSession++;
  }

  get pid(): number {
    return this.child.pid ?? NaN;
  }

  /** The agent's CPU time so far (user + system), µs. */
  async cpu(): Promise<number> {
    const reply = this.next((m) => m.t === 'cpu');
    this.send({ t: 'cpu' });
    const m = await reply;
    return m.t === 'cpu' ? m.user + m.system : NaN;
  }

  async stop(): Promise<void> {
    const exited = new Promise((resolve) => this.child.once('exit', resolve));
    this.send({ t: 'exit' });
    await exited;
  }
}

/** The small-request variants between two Node processes. */
type SmallNodeVariant = 'raw' | 'late' | 'get' | 'half' | 'core' | 'ping';

const stats = (xs: number[]) => ({
  p50: round(median(xs), 3),
  p99: round(quantile(xs, 0.99), 3),
});
const shown = (xs: number[]) => {
  const { p50, p99 } = stats(xs);
  return `p50 ${p50} ms, p99 ${p99} ms`;
};

interface NodeConnection {
  transport: Transport;
  setupMs: number;
  close(): Promise<void>;
}

/** This process offers (node-datachannel) to the agent, which answers. */
async function connectNode(
  agent: Agent,
  mode: AgentMode,
  setup: SetupRole = 'active',
  candidateDelayMs = 0,
): Promise<NodeConnection> {
  const session = agent.session();
  const pc: PeerConnection = new nodeDataChannel.PeerConnection('bench', loopbackRtcConfig());
  let remoteSet = false;
  const pending: SignalMessage[] = [];
  let failure: ((error: unknown) => void) | undefined;
  const safely = (fn: () => void) => {
    try {
      fn();
    } catch (error) {
      failure?.(error);
    }
  };
  const apply = (m: SignalMessage) => {
    if (m.type === 'answer') {
      pc.setRemoteDescription(m.sdp ?? '', 'answer');
      remoteSet = true;
      for (const c of pending.splice(0)) apply(c);
    } else if (m.type === 'candidate' && m.candidate) {
      if (remoteSet) pc.addRemoteCandidate(m.candidate, m.mid ?? '0');
      else pending.push(m);
    }
  };
  const off = agent.on((m) => {
    if (m.t !== 'signal' || m.session !== session) return;
    if (m.message.type === 'candidate' && candidateDelayMs > 0) {
      // Let the answerer's checks complete ICE on its side first (docs/performance.md).
      const message = m.message;
      setTimeout(() => safely(() => apply(message)), candidateDelayMs);
    } else {
      safely(() => apply(m.message));
    }
  });
  pc.onLocalDescription((sdp, type) => {
    safely(() => {
      const message: SignalMessage = {
        type: type === 'offer' ? 'offer' : 'answer',
        sdp: type === 'offer' ? forceOfferSetup(sdp, setup) : sdp,
      };
      agent.send({ t: 'signal', session, mode, message });
    });
  });
  pc.onLocalCandidate((candidate, mid) => {
    safely(() =>
      agent.send({ t: 'signal', session, mode, message: { type: 'candidate', candidate, mid } }),
    );
  });
  // What the connection went through, for the error when it does not open.
  const started = performance.now();
  const trace: string[] = [];
  const mark = (what: string) =>
    trace.push(`${Math.round(performance.now() - started)} ms ${what}`);
  pc.onStateChange((state) => mark(`state ${state}`));
  pc.onIceStateChange((state) => mark(`ice ${state}`));
  pc.onGatheringStateChange((state) => mark(`gathering ${state}`));
  const channel = await new Promise<DataChannel>((resolve, reject) => {
    failure = (error) =>
      reject(new Error(`session ${session}: ${String(error)} [${trace.join(', ')}]`));
    const timer = setTimeout(() => failure?.('DataChannel did not open within 15 s'), 15_000);
    const dc = pc.createDataChannel('bench');
    dc.onOpen(() =>
      safely(() => {
        clearTimeout(timer);
        resolve(dc);
      }),
    );
  });
  const setupMs = performance.now() - started;
  const transport = nodeDataChannelTransport(channel);
  return {
    transport,
    setupMs,
    close: async () => {
      off();
      transport.close();
      pc.close();
      agent.send({ t: 'close', session });
      await sleep(20);
    },
  };
}

/** The Chromium page offers to the agent, which answers; returns the page's setup time. */
async function connectChromium(
  agent: Agent,
  harness: ChromiumHarness,
  mode: AgentMode,
  setup: SetupRole = 'actpass',
): Promise<{ setupMs: number; close(): Promise<void> }> {
  const session = agent.session();
  const signaling = harness.offer((message) => {
    if (message.type === 'offer' && message.sdp) {
      message = { ...message, sdp: forceOfferSetup(message.sdp, setup) };
    }
    agent.send({ t: 'signal', session, mode, message });
  });
  const off = agent.on((m) => {
    if (m.t === 'signal' && m.session === session) {
      signaling.fromAnswerer(m.message).catch((error: unknown) => console.error(error));
    }
  });
  const setupMs = await signaling.open;
  return {
    setupMs,
    close: async () => {
      off();
      await harness.page.evaluate(() => window.pf.hangUp());
      agent.send({ t: 'close', session });
      await sleep(20);
    },
  };
}

/**
 * Opens one page connection per entry, each kept in the page as `pf.state[key]` (its
 * transport) and `pf.state[key + 'Pc']`; `close()` hangs them all up and clears the state.
 */
async function openChromiumChannels(
  agent: Agent,
  harness: ChromiumHarness,
  channels: Record<string, AgentMode>,
): Promise<{ close(): Promise<void> }> {
  const page = harness.page;
  const connections: { close(): Promise<void> }[] = [];
  for (const [key, mode] of Object.entries(channels)) {
    connections.push(await connectChromium(agent, harness, mode));
    await page.evaluate((k) => {
      window.pf.state[k] = window.pf.transport();
      window.pf.state[`${k}Pc`] = window.pf.peerConnection();
    }, key);
  }
  return {
    close: async () => {
      await page.evaluate((keys) => {
        for (const k of keys) (window.pf.state[`${k}Pc`] as RTCPeerConnection).close();
        window.pf.state = {};
      }, Object.keys(channels));
      for (const connection of connections) await connection.close();
    },
  };
}

/** Reads n bytes from the raw channel after asking the agent to send them; MiB/s. */
async function rawDownload(transport: Transport, n: number): Promise<number> {
  let got = 0;
  const started = performance.now();
  await new Promise<void>((resolve) => {
    transport.onMessage((m) => {
      got += m.byteLength;
      if (got >= n) resolve();
    });
    transport.send(rawSendCommand(n));
  });
  return n / MiB / ((performance.now() - started) / 1000);
}

/** Reads a body to its end, calling `onChunk` (which may wait: a slow reader) per chunk. */
async function drain(
  body: ReadableStream<Uint8Array> | null,
  onChunk?: (got: number) => Promise<void> | undefined,
): Promise<number> {
  let got = 0;
  if (body === null) return 0;
  const reader = body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return got;
    got += value.byteLength;
    await onChunk?.(got);
  }
}

async function timedFetch(
  fetcher: (url: string) => Promise<Response>,
  url: string,
  n: number,
): Promise<number> {
  const started = performance.now();
  const response = await fetcher(url);
  const got = await drain(response.body);
  if (got !== n) throw new Error(`expected ${n} bytes from ${url}, got ${got}`);
  return n / MiB / ((performance.now() - started) / 1000);
}

function machine() {
  return {
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model ?? 'unknown',
    memoryGiB: round(totalmem() / 1024 ** 3, 1),
    node: process.version,
    nodeDataChannel: nodeDataChannel.getLibraryVersion(),
  };
}

async function main(): Promise<void> {
  const results: Record<string, unknown> = {
    peerHttpOptions: PEER_OPTIONS,
    startedAt: new Date().toISOString(),
    machine: machine(),
  };
  const rows: [string, string, string][] = [];
  const row = (name: string, value: string, note = '') => {
    rows.push([name, value, note]);
    console.log(`  ${name}: ${value} ${note}`);
  };
  const agent = await Agent.start();
  // Chromium only when a section uses it (BENCH_SECTIONS=node runs without a browser), and
  // only after the node ↔ node sections: those run on a machine without a browser.
  const needsChromium =
    SECTIONS.has('chromium') || (SECTIONS.has('setup') && !process.env['BENCH_SKIP_CHROME_SETUP']);
  let harness: ChromiumHarness | undefined;
  try {
    // 1. Throughput node ↔ node (two processes): agent → this process.
    const tp: Record<string, number[]> = {};
    if (SECTIONS.has('node')) {
      const raw = await connectNode(agent, 'raw');
      const ph = await connectNode(agent, 'peer-http');
      const client = createPeerFetch(ph.transport, PEER_OPTIONS);
      const phFetch = (url: string) => client.fetch(url);
      await rawDownload(raw.transport, 4 * MiB); // warm-up
      await timedFetch(phFetch, `${PEER}/bytes?n=${4 * MiB}`, 4 * MiB);
      const httpUrl = `http://127.0.0.1:${agent.httpPort}/bytes?n=${BODY}`;
      tp['node-node raw DataChannel'] = [];
      tp['node-node peer-http'] = [];
      tp['node-node HTTP/1.1 loopback TCP'] = [];
      // CPU time (both processes, user + system) per MiB moved: robust against other load.
      const cpu: Record<string, number[]> = {};
      const measured = async (name: string, run: () => Promise<number>) => {
        const agentBefore = await agent.cpu();
        const before = process.cpuUsage();
        tp[name]?.push(round(await run()));
        const mine = process.cpuUsage(before);
        const agentAfter = await agent.cpu();
        const micros = mine.user + mine.system + agentAfter - agentBefore;
        (cpu[name] ??= []).push(round(micros / 1000 / (BODY / MiB), 2));
      };
      for (let i = 0; i < RUNS; i++) {
        await measured('node-node raw DataChannel', () => rawDownload(raw.transport, BODY));
        await measured('node-node peer-http', () =>
          timedFetch(phFetch, `${PEER}/bytes?n=${BODY}`, BODY),
        );
        await measured('node-node HTTP/1.1 loopback TCP', () => timedFetch(fetch, httpUrl, BODY));
      }
      results['cpuMsPerMiB'] = cpu;
      for (const [name, runs] of Object.entries(cpu)) {
        row(
          `CPU per MiB ${name}`,
          `${median(runs)} ms`,
          `both processes; runs: ${runs.join(', ')}`,
        );
      }

      // 2. Small GET latency vs raw ping-pong (same two processes). The variants take turns
      // in blocks (SMALL_N each in all), so a drift of the machine's state during the section
      // affects them alike.
      const rawPing = (message: Uint8Array) => () =>
        new Promise<void>((resolve) => {
          raw.transport.onMessage(() => resolve());
          raw.transport.send(message);
        });
      const fetchSmall = (get: typeof phFetch) => async () => {
        const response = await get(`${PEER}/small`);
        await response.arrayBuffer();
      };
      // The same GET with the core API (no Request/Response objects): in the agent only, then
      // on both ends. The fetch API is built on it; the difference is what the objects cost.
      const core = await connectNode(agent, 'core');
      const coreClient = createPeerFetch(core.transport, PEER_OPTIONS);
      // what each variant costs the JavaScript threads of both ends (not the channel's threads)
      const threadCpu = new MainThreadMeter<SmallNodeVariant>({
        agent: agent.pid,
        client: process.pid,
      });
      const {
        raw: rawRtt,
        late: lateRtt,
        get: getRtt,
        half: halfRtt,
        core: coreRtt,
        ping: pingRtt,
      } = await takingTurns(
        {
          raw: rawPing(new Uint8Array(16).fill(0x50)),
          // a responder that works LATE_REPLY_US before it answers (as a handler does): on a
          // machine whose idle threads wake slowly, a late reply costs more than its own delay
          // (docs/performance.md, "the cost of a late reply")
          late: rawPing(rawLateEchoCommand(LATE_REPLY_US)),
          get: fetchSmall(phFetch),
          half: fetchSmall((url) => coreClient.fetch(url)),
          core: async () => {
            const response = await coreClient.request({ target: '/small' });
            await response.bytes();
          },
          // the protocol's own round trip (PING / PONG: no stream, no handler)
          ping: () => coreClient.ping(),
        },
        SMALL_N,
        SMALL_WARMUP,
        threadCpu,
      );
      await coreClient.close();
      await core.close();
      const ratio = (xs: number[]) => `p50 ratio ${round(median(xs) / median(rawRtt))}×`;
      results['smallGetMs'] = {
        rawPingPong: stats(rawRtt),
        rawPingPongLateReply: { replyAfterUs: LATE_REPLY_US, ...stats(lateRtt) },
        peerHttpGet: stats(getRtt),
        fetchToCoreServer: stats(halfRtt),
        coreApiGet: stats(coreRtt),
        peerHttpPing: stats(pingRtt),
      };
      results['smallMainThreadCpuUs'] = threadCpu.perCallByVariant();
      const noted = (name: SmallNodeVariant, note: string) =>
        [note, threadCpu.describe(name)].filter(Boolean).join('; ');
      row('small request, raw DataChannel ping-pong', shown(rawRtt), noted('raw', ''));
      row(
        `small request, raw ping-pong, reply after ${LATE_REPLY_US} µs of work`,
        shown(lateRtt),
        `reference: ping-pong p50 + ${LATE_REPLY_US} µs = ${round(median(rawRtt) + LATE_REPLY_US / 1000, 3)} ms`,
      );
      row(
        'small request, peer-http PING / PONG',
        shown(pingRtt),
        noted('ping', `${ratio(pingRtt)}; the protocol's own round trip, no stream`),
      );
      row(
        'small request, peer-http GET /small, fetch API',
        shown(getRtt),
        noted('get', `${ratio(getRtt)} (target ≤ 1.3×); fetch() → fetch-style handler`),
      );
      row(
        'small request, peer-http fetch() → core-API server',
        shown(halfRtt),
        noted('half', `${ratio(halfRtt)}; no Request/Response in the agent`),
      );
      row(
        'small request, peer-http GET /small, core API',
        shown(coreRtt),
        noted('core', `${ratio(coreRtt)} (target ≤ 1.3×); request() → coreHandler`),
      );
      // The fetch API's floor: the core GET plus what its WHATWG objects alone cost, warm, in
      // this process (bench/fetch-floor.ts); a model and a lower bound, not a measured GET.
      const floor = await measureFetchFloor();
      const coreP50 = median(coreRtt);
      const floorMs = coreP50 + floor.total / 1000;
      const floorRatio = round(floorMs / median(rawRtt));
      results['fetchApiFloor'] = {
        objectsUs: floor,
        coreGetP50Ms: round(coreP50, 3),
        floorP50Ms: round(floorMs, 3),
        ratio: floorRatio,
      };
      row(
        'small request, fetch API floor: core GET + the objects alone',
        `p50 ≥ ${round(floorMs, 3)} ms`,
        `ratio ≥ ${floorRatio}× (a model); handler's Request ${floor.handlerRequest} + its Response ${floor.handlerResponse} + client's Response ${floor.clientResponse} µs, warm`,
      );

      // 3. Concurrent streams.
      const started = performance.now();
      const statuses = await Promise.all(
        Array.from({ length: CONCURRENT }, async () => {
          const response = await phFetch(`${PEER}/small`);
          await response.arrayBuffer();
          return response.status;
        }),
      );
      const ms = performance.now() - started;
      const ok = statuses.filter((s) => s === 200).length;
      results['concurrent'] = { streams: CONCURRENT, ok, ms: round(ms, 1) };
      row(`${CONCURRENT} concurrent GETs`, `${round(ms, 1)} ms`, `${ok}/${CONCURRENT} OK`);

      // 4. Agent RSS while streaming SLOW_TOTAL to a slow reader (this process).
      agent.send({ t: 'rss-start' });
      await sleep(200);
      const slowStarted = performance.now();
      const response = await phFetch(`${PEER}/bytes?n=${SLOW_TOTAL}`);
      const got = await drain(response.body, (bytes) => {
        const ahead = bytes / SLOW_RATE - (performance.now() - slowStarted) / 1000;
        return ahead > 0.005 ? sleep(ahead * 1000) : undefined;
      });
      const slowSeconds = (performance.now() - slowStarted) / 1000;
      agent.send({ t: 'rss-stop' });
      const rss = await agent.next((m) => m.t === 'rss');
      if (rss.t === 'rss') {
        const growth = (rss.peak - rss.baseline) / MiB;
        results['slowReader'] = {
          bytes: got,
          seconds: round(slowSeconds, 1),
          readerMiBps: round(got / MiB / slowSeconds),
          agentRssBaselineMiB: round(rss.baseline / MiB, 1),
          agentRssPeakMiB: round(rss.peak / MiB, 1),
          agentRssGrowthMiB: round(growth, 1),
          samples: rss.samples,
        };
        row(
          `agent RSS growth, ${round(SLOW_TOTAL / MiB)} MiB to a slow reader`,
          `${round(growth, 1)} MiB`,
          `reader ${round(got / MiB / slowSeconds)} MiB/s; target < 32 MiB`,
        );
      }
      await raw.close();
      await ph.close();
    }

    if (needsChromium) {
      harness = await ChromiumHarness.launch();
      results['machine'] = { ...machine(), chromium: harness.browser.version() };
    }

    // 5. Setup time, offer → channel open.
    const setup: Record<string, number[]> = {};
    if (SECTIONS.has('setup')) {
      const variants = [
        ['node-node offer a=setup:actpass', 'actpass', 0],
        ['node-node offer a=setup:active', 'active', 0],
        ['node-node offer a=setup:active, offerer adds candidates 20 ms late', 'active', 20],
      ] as const;
      // Interleaved, so a burst of load elsewhere hits every variant alike.
      for (const [name] of variants) setup[name] = [];
      for (let i = 0; i < SETUP_N; i++) {
        for (const [name, role, delay] of variants) {
          const c = await connectNode(agent, 'raw', role, delay);
          setup[name]?.push(round(c.setupMs, 1));
          await c.close();
        }
      }
      for (const role of ['actpass', 'active'] as const) {
        if (!harness || process.env['BENCH_SKIP_CHROME_SETUP']) break;
        const times: number[] = [];
        for (let i = 0; i < SETUP_N; i++) {
          const c = await connectChromium(agent, harness, 'raw', role);
          times.push(round(c.setupMs, 1));
          await c.close();
        }
        setup[`chromium-node offer a=setup:${role}`] = times;
      }
      results['setupMs'] = setup;
      for (const [name, times] of Object.entries(setup)) {
        row(
          `setup ${name}`,
          `p50 ${round(median(times), 1)} ms, p90 ${round(quantile(times, 0.9), 1)} ms`,
          `${times.filter((t) => t > 500).length}/${times.length} runs > 500 ms`,
        );
      }
    }

    // 6. Throughput Chromium ← node (agent process).
    if (harness && SECTIONS.has('chromium')) {
      const page = harness.page;
      tp['chromium←node raw DataChannel'] = [];
      tp['chromium←node peer-http'] = [];
      tp['chromium←node HTTP/1.1 loopback TCP'] = [];
      // both channels open at once, so that the variants can take turns run by run
      const channels = await openChromiumChannels(agent, harness, { raw: 'raw', ph: 'peer-http' });
      const rawRun = (n: number) =>
        page.evaluate(
          async ({ n, command }) => {
            const t = window.pf.state['raw'] as Transport;
            let got = 0;
            const started = performance.now();
            await new Promise<void>((resolve) => {
              t.onMessage((m) => {
                got += m.byteLength;
                if (got >= n) resolve();
              });
              t.send(new Uint8Array(command));
            });
            return n / 1048576 / ((performance.now() - started) / 1000);
          },
          { n, command: [...rawSendCommand(n)] },
        );
      const fetchRun = (url: string, n: number, viaPeer: boolean) =>
        page.evaluate(
          async ({ url, n, viaPeer, options }) => {
            // No named inner functions here: tsx's keepNames would reference a missing
            // `__name` helper inside the page.
            const pf = window.pf;
            if (viaPeer) {
              pf.state['client'] ??= pf.peerHttp.createPeerFetch(
                pf.state['ph'] as Transport,
                options,
              );
            }
            const client = pf.state['client'] as
              { fetch(u: string): Promise<Response> } | undefined;
            const started = performance.now();
            const response = viaPeer && client ? await client.fetch(url) : await fetch(url);
            const reader = (response.body as ReadableStream<Uint8Array>).getReader();
            let got = 0;
            for (;;) {
              const { done, value } = await reader.read();
              if (done) break;
              got += value.byteLength;
            }
            if (got !== n) throw new Error(`expected ${n} bytes, got ${got}`);
            return n / 1048576 / ((performance.now() - started) / 1000);
          },
          { url, n, viaPeer, options: PEER_OPTIONS },
        );
      await rawRun(4 * MiB); // warm-up
      await fetchRun(`${PEER}/bytes?n=${4 * MiB}`, 4 * MiB, true);
      const httpUrl = `http://127.0.0.1:${agent.httpPort}/bytes?n=${BODY}`;
      // interleaved (raw, peer-http, HTTP, raw, …) as node ↔ node: a drift of the machine's
      // state during the section hits all three alike
      for (let i = 0; i < RUNS; i++) {
        tp['chromium←node raw DataChannel'].push(round(await rawRun(BODY)));
        tp['chromium←node peer-http'].push(
          round(await fetchRun(`${PEER}/bytes?n=${BODY}`, BODY, true)),
        );
        tp['chromium←node HTTP/1.1 loopback TCP'].push(round(await fetchRun(httpUrl, BODY, false)));
      }
      await channels.close();
    }
    // 7. Small requests Chromium → node: the product's path (a browser's fetch() to an
    // agent). Three channels at once (raw echo, fetch-style and core-API servers), the
    // variants taking turns in the page.
    if (harness && SECTIONS.has('chromium')) {
      const page = harness.page;
      const channels = await openChromiumChannels(agent, harness, {
        raw: 'raw',
        fetchServer: 'peer-http',
        coreServer: 'core',
      });
      const rtt = await page.evaluate((spec) => window.pf.smallRequests(spec), {
        n: SMALL_N,
        warmup: SMALL_WARMUP,
        options: PEER_OPTIONS,
      });
      await channels.close();
      const ratio = (xs: number[]) => `p50 ratio ${round(median(xs) / median(rtt.raw))}×`;
      results['chromiumSmallMs'] = {
        rawPingPong: stats(rtt.raw),
        peerHttpPing: stats(rtt.ping),
        peerHttpGet: stats(rtt.get),
        fetchToCoreServer: stats(rtt.half),
        coreApiGet: stats(rtt.core),
      };
      row('chromium→node small request, raw DataChannel ping-pong', shown(rtt.raw));
      row('chromium→node small request, peer-http PING / PONG', shown(rtt.ping), ratio(rtt.ping));
      row(
        'chromium→node small request, GET /small, fetch API',
        shown(rtt.get),
        `${ratio(rtt.get)} (target ≤ 1.3×); fetch() → fetch-style handler`,
      );
      row(
        'chromium→node small request, fetch() → core-API server',
        shown(rtt.half),
        `${ratio(rtt.half)} (target ≤ 1.3×); no Request/Response in the agent`,
      );
      row(
        'chromium→node small request, GET /small, core API',
        shown(rtt.core),
        `${ratio(rtt.core)} (target ≤ 1.3×); request() → coreHandler`,
      );
    }
    results['throughputMiBps'] = tp;
    for (const [name, runs] of Object.entries(tp)) {
      row(`throughput ${name}`, `${round(median(runs), 1)} MiB/s`, `runs: ${runs.join(', ')}`);
    }
    const ratio = (a: string, b: string) => round(median(tp[a] ?? []) / median(tp[b] ?? []), 3);
    const ratios = {
      'peer-http / raw DataChannel, node↔node': ratio(
        'node-node peer-http',
        'node-node raw DataChannel',
      ),
      'peer-http / raw DataChannel, Chromium←node': ratio(
        'chromium←node peer-http',
        'chromium←node raw DataChannel',
      ),
    };
    results['ratios'] = ratios;
    for (const [name, value] of Object.entries(ratios)) {
      if (Number.isFinite(value)) row(name, String(value), 'target ≥ 0.9');
    }
    report(results, rows);
  } finally {
    await harness?.close();
    await agent.stop();
    // node-datachannel's cleanup() hung for good once here (18 min, after every measurement;
    // a known class of libdatachannel shutdown deadlocks, e.g. libdatachannel#619): the
    // results are out before it, and callbacks of the connections just closed get a moment
    // to land first
    await sleep(250);
    nodeDataChannel.cleanup();
  }
}

/** Writes the JSON (BENCH_OUT or artifacts/bench/peer-http.json) and prints the table. */
function report(results: Record<string, unknown>, rows: [string, string, string][]): void {
  results['finishedAt'] = new Date().toISOString();
  // BENCH_OUT: another file (the root system benchmark runs a section of this one).
  const outFile =
    process.env['BENCH_OUT'] ??
    fileURLToPath(new URL('../../../artifacts/bench/peer-http.json', import.meta.url));
  mkdirSync(dirname(outFile), { recursive: true });
  writeFileSync(outFile, `${JSON.stringify(results, null, 2)}\n`);
  const width = Math.max(...rows.map((r) => r[0].length));
  const valueWidth = Math.max(...rows.map((r) => r[1].length));
  console.log(`\npeer-http bench (${JSON.stringify(results['machine'])})\n`);
  for (const [name, value, note] of rows) {
    console.log(`${name.padEnd(width)}  ${value.padEnd(valueWidth)}  ${note}`);
  }
  console.log(`\nwrote ${outFile}`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
