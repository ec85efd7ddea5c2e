// Edge-agent figures against the real registrar (same setup as system.spec.ts):
//   - idle RSS of the agent process (online, no session);
//   - RSS while 10 console sessions each stream a 200 MiB clip at once (peak and median of
//     samples every 200 ms), with the aggregate throughput;
//   - setup time, median over sequential sessions: offer received by the agent → first
//     response sent, from the agent's own clock (log line "session offer accepted" → the
//     audit event of the session's first request, a tiny GET /_agent/health whose response
//     is written at once); plus the console's view (offer sent to the registrar → first
//     response received), which adds the registrar relay and the console side.
// Prints a table and writes artifacts/bench/edge-agent.json.
//
//   cd apps/edge-agent && ../../scripts/netns-run.sh node --import tsx test/system/figures.ts
// (needs apps/registrar/dist: `npx nx build @peerfetch/registrar`)
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import nodeDataChannel from 'node-datachannel';
import { writeSyntheticFile } from '../../src/demo/synthetic.js';
import { startDemoUpstream } from '../../src/demo/upstream.js';
import { buildAgent } from '../support/build.js';
import {
  Api,
  ROOT,
  createDatabase,
  openSession,
  rssBytes,
  startAgent,
  startRegistrar,
  waitFor,
} from './harness.js';

const CLIP_SIZE = 200 * 1024 * 1024;
const STREAMS = 10;
const SETUP_RUNS = Number(process.env['SETUP_RUNS'] ?? 30);
const MiB = 1024 * 1024;

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
};
const pct = (xs: number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] as number;
};
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

if (process.env['PEERFETCH_IN_NETNS'] !== '1') {
  console.error('run inside the loopback-only namespace: ../../scripts/netns-run.sh node …');
  process.exit(2);
}

const root = mkdtempSync(join(tmpdir(), 'agent-figures-'));
const db = await createDatabase();
const cleanups: Array<() => unknown> = [];
try {
  const cli = buildAgent();
  mkdirSync(join(root, 'clips'));
  await writeSyntheticFile(join(root, 'clips', 'big.bin'), CLIP_SIZE, 3);
  const registrar = await startRegistrar(db.url, join(root, 'registrar'));
  cleanups.push(() => registrar.stop('SIGTERM'));
  const api = await new Api(registrar.url).login();
  const upstream = await startDemoUpstream({ name: 'cam-fig', port: 0 });
  cleanups.push(() => upstream.close());
  const claimCode = await api.claimCode('cam-fig');
  const dataDir = join(root, 'agent');
  const agent = startAgent(cli, {
    REGISTRAR_URL: registrar.url,
    CLAIM_CODE: claimCode,
    DEVICE_NAME: 'cam-fig',
    DATA_DIR: dataDir,
    CLIPS_DIR: join(root, 'clips'),
    UPSTREAM_ORIGINS: upstream.url,
    ICE_BIND_ADDRESS: '127.0.0.1',
    MAX_SESSIONS: '16',
    LOG_LEVEL: 'info',
  });
  cleanups.push(() => agent.child.kill('SIGTERM'));
  const pid = agent.child.pid as number;
  const device = await waitFor('device online', async () =>
    (await api.devices()).find((d) => d.name === 'cam-fig' && d.status === 'online'),
  );

  // --- idle RSS: online, no session yet, after settling
  await sleep(3_000);
  const idleRss = rssBytes(pid);

  // --- setup time
  const consoleSetup: number[] = [];
  const sessionIds: string[] = [];
  for (let i = 0; i < SETUP_RUNS; i++) {
    const s = await openSession(api, device.id);
    const res = await s.client.fetch('/_agent/health');
    consoleSetup.push(performance.now() - s.offerSentAt);
    await res.text();
    sessionIds.push(s.sessionId);
    await s.close();
  }
  await sleep(500);
  const accepted = new Map<string, number>();
  for (const line of agent.output().split('\n')) {
    if (!line.includes('session offer accepted')) continue;
    try {
      const j = JSON.parse(line) as { time: number; sessionId: string };
      accepted.set(j.sessionId, j.time);
    } catch {
      // not a JSON log line
    }
  }
  const firstRequest = new Map<string, number>();
  const auditDir = join(dataDir, 'audit');
  for (const f of readdirSync(auditDir).filter((n) => n.endsWith('.jsonl'))) {
    for (const line of readFileSync(join(auditDir, f), 'utf8').split('\n')) {
      if (!line) continue;
      const e = JSON.parse(line) as { ts: number; sessionId: string };
      const prev = firstRequest.get(e.sessionId);
      if (prev === undefined || e.ts < prev) firstRequest.set(e.sessionId, e.ts);
    }
  }
  const agentSetup = sessionIds.flatMap((id) => {
    const a = accepted.get(id);
    const r = firstRequest.get(id);
    return a !== undefined && r !== undefined ? [r - a] : [];
  });

  // --- 10 concurrent streaming sessions
  const sessions = await Promise.all(
    Array.from({ length: STREAMS }, () => openSession(api, device.id)),
  );
  const samples: number[] = [];
  let streaming = true;
  const sampler = (async () => {
    while (streaming) {
      samples.push(rssBytes(pid));
      await sleep(200);
    }
  })();
  const t0 = performance.now();
  const bytes = await Promise.all(
    sessions.map(async (s) => {
      const res = await s.client.fetch('/_agent/clips/big.bin');
      let n = 0;
      const reader = (res.body as ReadableStream<Uint8Array>).getReader();
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        n += value.byteLength;
      }
      return n;
    }),
  );
  const seconds = (performance.now() - t0) / 1000;
  streaming = false;
  await sampler;
  for (const s of sessions) await s.close();
  const total = bytes.reduce((a, b) => a + b, 0);
  if (total !== STREAMS * CLIP_SIZE) throw new Error(`streamed ${total} bytes`);
  await sleep(2_000);
  const idleAfterRss = rssBytes(pid);

  const figures = {
    measuredAt: new Date().toISOString(),
    machine: { cpus: cpus().length, node: process.version },
    setup:
      'real registrar (PostgreSQL, embedded aedes) + agent process + node-datachannel consoles, loopback netns',
    idleRssMiB: +(idleRss / MiB).toFixed(1),
    streaming: {
      sessions: STREAMS,
      clipMiB: CLIP_SIZE / MiB,
      rssPeakMiB: +(Math.max(...samples) / MiB).toFixed(1),
      rssMedianMiB: +(median(samples) / MiB).toFixed(1),
      aggregateMiBps: +(total / MiB / seconds).toFixed(1),
      seconds: +seconds.toFixed(1),
    },
    idleRssAfterStreamingMiB: +(idleAfterRss / MiB).toFixed(1),
    setupMs: {
      runs: SETUP_RUNS,
      agentOfferToFirstResponse: {
        n: agentSetup.length,
        median: median(agentSetup),
        p90: pct(agentSetup, 90),
        max: Math.max(...agentSetup),
      },
      consoleOfferSentToFirstResponse: {
        median: +median(consoleSetup).toFixed(1),
        p90: +pct(consoleSetup, 90).toFixed(1),
        max: +Math.max(...consoleSetup).toFixed(1),
      },
    },
  };
  console.log('edge-agent figures');
  console.table({
    'idle RSS (MiB)': figures.idleRssMiB,
    [`RSS, ${STREAMS} streams: peak (MiB)`]: figures.streaming.rssPeakMiB,
    [`RSS, ${STREAMS} streams: median (MiB)`]: figures.streaming.rssMedianMiB,
    'aggregate throughput (MiB/s)': figures.streaming.aggregateMiBps,
    'idle RSS after streaming (MiB)': figures.idleRssAfterStreamingMiB,
    'setup, agent offer → first response, median (ms)':
      figures.setupMs.agentOfferToFirstResponse.median,
    'setup, agent, p90 (ms)': figures.setupMs.agentOfferToFirstResponse.p90,
    'setup, console offer sent → response, median (ms)':
      figures.setupMs.consoleOfferSentToFirstResponse.median,
  });
  const out = join(ROOT, 'artifacts', 'bench');
  mkdirSync(out, { recursive: true });
  writeFileSync(join(out, 'edge-agent.json'), `${JSON.stringify(figures, null, 2)}\n`);
  console.log(`wrote ${join(out, 'edge-agent.json')}`);
} finally {
  for (const c of cleanups.reverse()) await Promise.resolve(c()).catch(() => undefined);
  await sleep(500);
  await db.drop().catch(() => undefined);
  rmSync(root, { recursive: true, force: true });
  nodeDataChannel.cleanup();
}
