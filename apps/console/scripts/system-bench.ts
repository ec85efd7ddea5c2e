// The whole-system benchmark (`npm run bench` at the root runs it with the others): the
// REAL registrar process (fresh PostgreSQL database, embedded broker) serving the built
// console, the REAL edge-agent process with a sample clip and a 64 MiB file, and Debian
// Chromium, all inside the loopback-only namespace. In one run, side by side:
//
//   1. connect-to-first-response: `new PeerFetch({ token }).connect(device)` (session
//      grant, signaling, ICE, DTLS, the identity handshake) then the first GET answered,
//      timed in the page — p50/p95 over BENCH_CONNECT_N sessions (the first, TOFU, apart);
//   2. clip time-to-first-frame in the console UI: from the click on "Play" to the first
//      frame the <video> presents (requestVideoFrameCallback), the video streamed over
//      peer-http by the console's service worker;
//   3. throughput Chromium ← agent over peer-http (the 64 MiB file) and, in the same run,
//      Chromium ← node-datachannel over a raw DataChannel (libs/peer-http's bench, its
//      `chromium` section, same browser build and machine) as the ceiling;
//   4. sessions per agent: K sessions to the one agent at once (connect all, then each
//      reads 4 MiB), for K in BENCH_SESSIONS (the agent's MAX_SESSIONS raised to fit);
//   5. registrar signalings/s (apps/registrar's bench, BENCH_SIGNAL_AGENTS agents).
//
// Knobs: BENCH_SECTIONS (connect,ttff,throughput,sessions,signaling: the sections to run;
// default all), BENCH_CONNECT_N, BENCH_TTFF_N, BENCH_RUNS, BENCH_SESSIONS,
// BENCH_SIGNAL_AGENTS, BENCH_AGENT_LOG_LEVEL (the agent's LOG_LEVEL, default warn; at debug
// the connect section also reports the agent's own setup timing), BENCH_OUT (the JSON file).
//
// Prints a table and writes artifacts/bench/system.json. Needs apps/registrar/dist
// (`npx nx build @peerfetch/registrar`; the root `npm run bench` builds it first).
//
//   cd apps/console && ../../scripts/netns-run.sh node --import tsx scripts/system-bench.ts
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import type { Page } from 'playwright-core';
import { build } from 'vite';
import { SAMPLE_CLIP } from '../../edge-agent/src/demo/sample-clips.js';
import { writeSyntheticFile } from '../../edge-agent/src/demo/synthetic.js';
import { startDemoUpstream } from '../../edge-agent/src/demo/upstream.js';
import { buildAgent } from '../../edge-agent/test/support/build.js';
import {
  ADMIN,
  Api,
  ROOT,
  createDatabase,
  startAgent,
  startRegistrar,
  waitFor,
} from '../../edge-agent/test/system/harness.js';
import { launchChromium, openPage, VIEWPORTS } from '../test/e2e/browser.js';

const MiB = 1024 * 1024;
const int = (name: string, fallback: number): number => {
  const v = Number(process.env[name] ?? fallback);
  if (!Number.isInteger(v) || v < 1) throw new Error(`${name} must be a positive integer`);
  return v;
};
const CONNECT_N = int('BENCH_CONNECT_N', 20);
const TTFF_N = int('BENCH_TTFF_N', 5);
const RUNS = int('BENCH_RUNS', 3);
const BODY = 64 * MiB;
const SESSIONS = (process.env['BENCH_SESSIONS'] ?? '1,8,16,32').split(',').map(Number);
const SIGNAL_AGENTS = int('BENCH_SIGNAL_AGENTS', 1000);
const ALL_SECTIONS = ['connect', 'ttff', 'throughput', 'sessions', 'signaling'] as const;
type Section = (typeof ALL_SECTIONS)[number];
const SECTIONS = new Set(
  (process.env['BENCH_SECTIONS'] ?? ALL_SECTIONS.join(',')).split(',').map((x) => {
    if (!(ALL_SECTIONS as readonly string[]).includes(x)) {
      throw new Error(`BENCH_SECTIONS: unknown section "${x}" (${ALL_SECTIONS.join(', ')})`);
    }
    return x as Section;
  }),
);
const AGENT_LOG_LEVEL = process.env['BENCH_AGENT_LOG_LEVEL'] ?? 'warn';
const DEVICE = 'cam-bench';
const CLIP = 'front-door.mp4';
const BIG = 'big.bin';

const quantile = (xs: number[], q: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? NaN;
};
const median = (xs: number[]): number => quantile(xs, 0.5);
const round = (x: number, digits = 1): number => Number(x.toFixed(digits));

if (process.env['PEERFETCH_IN_NETNS'] !== '1') {
  console.error('run inside the loopback-only namespace: ../../scripts/netns-run.sh node …');
  process.exit(2);
}

// Page-side helpers, added as a plain script: functions passed to page.evaluate from tsx
// carry esbuild's `__name` wrappers, which do not exist in the page.
const PAGE_HELPERS = `
window.bench = {
  async connectAndGet(registrarUrl, token, deviceId) {
    const started = performance.now();
    const pf = new window.peerfetch.PeerFetch({ registrarUrl, token });
    await pf.connect(deviceId);
    const res = await pf.fetch('/_agent/health');
    await res.arrayBuffer();
    const ms = performance.now() - started;
    const phases = pf.phases;
    const sessionId = pf.sessionId;
    await pf.close();
    if (res.status !== 200) throw new Error('health answered ' + res.status);
    return { ms, phases, sessionId, startedAt: performance.timeOrigin + started };
  },
  async download(registrarUrl, token, deviceId, path, runs, expected) {
    const pf = new window.peerfetch.PeerFetch({ registrarUrl, token });
    await pf.connect(deviceId);
    const rates = [];
    for (let i = 0; i < runs; i++) {
      const started = performance.now();
      const res = await pf.fetch(path);
      const reader = res.body.getReader();
      let got = 0;
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        got += value.byteLength;
      }
      if (got !== expected) throw new Error('expected ' + expected + ' bytes, got ' + got);
      rates.push(expected / 1048576 / ((performance.now() - started) / 1000));
    }
    await pf.close();
    return rates;
  },
  async sessions(registrarUrl, token, deviceId, path, k, bytes) {
    const started = performance.now();
    const clients = await Promise.all(
      Array.from({ length: k }, async () => {
        const pf = new window.peerfetch.PeerFetch({ registrarUrl, token });
        await pf.connect(deviceId);
        return pf;
      }),
    );
    const connectedMs = performance.now() - started;
    const readStart = performance.now();
    const sizes = await Promise.all(
      clients.map(async (pf) => {
        const res = await pf.fetch(path, { headers: { range: 'bytes=0-' + (bytes - 1) } });
        return (await res.arrayBuffer()).byteLength;
      }),
    );
    const readMs = performance.now() - readStart;
    await Promise.all(clients.map((pf) => pf.close()));
    return { connectedMs, readMs, ok: sizes.filter((n) => n === bytes).length };
  },
};
`;

/** Arms the next click for a time-to-first-frame measurement (result in window.ttff). */
const ARM_TTFF = `
(() => {
  window.ttff = null;
  let t0 = 0;
  document.addEventListener('click', () => { t0 = performance.now(); }, { capture: true, once: true });
  const observer = new MutationObserver(() => {
    const v = document.querySelector('[data-testid="player"]');
    if (!v) return;
    observer.disconnect();
    v.muted = true;
    v.requestVideoFrameCallback(() => { window.ttff = performance.now() - t0; });
    v.play().catch((e) => { window.ttff = 'play failed: ' + e; });
  });
  observer.observe(document.body, { childList: true, subtree: true });
})();
`;

/** The parts of libs/peer-http's and apps/registrar's bench JSON read here. */
interface PeerHttpBench {
  throughputMiBps: Record<string, number[]>;
}
interface RegistrarBench {
  runs: {
    agents: number;
    sessionRequest: string;
    signalingsPerSecond: number;
    latencyMs: { p50: number; p99: number };
    failures: number;
  }[];
}

/** Runs another package's benchmark as a child process; returns its JSON output. */
function subBench<T>(cwd: string, script: string, env: Record<string, string>): T {
  const out = join(work, `${script.replace(/\W+/g, '-')}.json`);
  const r = spawnSync(process.execPath, ['--import', 'tsx', script], {
    cwd,
    env: { ...process.env, BENCH_SECTIONS: undefined, ...env, BENCH_OUT: out },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  if (r.status !== 0) throw new Error(`${script} in ${cwd} exited with ${r.status}`);
  return JSON.parse(readFileSync(out, 'utf8')) as T;
}

const work = mkdtempSync(join(tmpdir(), 'system-bench-'));
const db = await createDatabase();
const cleanups: Array<() => unknown> = [];
const results: Record<string, unknown> = { startedAt: new Date().toISOString() };
try {
  const consoleRoot = resolve(import.meta.dirname, '..');
  const site = join(work, 'site');
  process.env['NODE_ENV'] = 'production';
  await build({ root: consoleRoot, logLevel: 'warn', build: { outDir: site, emptyOutDir: true } });
  await build({
    root: consoleRoot,
    configFile: join(consoleRoot, 'vite.standalone.config.ts'),
    logLevel: 'warn',
    build: { outDir: site, emptyOutDir: false },
  });
  const clips = join(work, 'clips');
  mkdirSync(clips);
  copyFileSync(SAMPLE_CLIP, join(clips, CLIP));
  await writeSyntheticFile(join(clips, BIG), BODY, 7);

  const registrar = await startRegistrar(db.url, join(work, 'registrar'), { CONSOLE_DIR: site });
  cleanups.push(() => registrar.stop('SIGKILL'));
  const api = await new Api(registrar.url).login();
  const upstream = await startDemoUpstream({ name: DEVICE, port: 0 });
  cleanups.push(() => upstream.close());
  const claim = await api.call('POST', '/api/claim-codes', { label: DEVICE, ttlHours: 1 });
  const agent = startAgent(buildAgent(), {
    REGISTRAR_URL: registrar.url,
    CLAIM_CODE: String(claim.body['code']),
    DEVICE_NAME: DEVICE,
    DATA_DIR: join(work, 'agent'),
    CLIPS_DIR: clips,
    UPSTREAM_ORIGINS: upstream.url,
    ICE_BIND_ADDRESS: '127.0.0.1',
    MAX_SESSIONS: String(Math.max(8, ...SESSIONS)),
    LOG_LEVEL: AGENT_LOG_LEVEL,
  });
  cleanups.push(() => agent.child.kill('SIGKILL'));
  const device = await waitFor('device enrolled and online', async () =>
    (await api.devices()).find((d) => d.name === DEVICE && d.status === 'online'),
  );
  const token = String(api.token);
  const browser = await launchChromium();
  cleanups.push(() => browser.close());
  results['machine'] = {
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model ?? 'unknown',
    memoryGiB: round(totalmem() / 1024 ** 3),
    node: process.version,
    chromium: browser.version(),
  };

  // A plain page on the registrar's origin with the standalone client.
  const plain = await openPage(browser, VIEWPORTS[0]);
  await plain.page.goto(`${registrar.url}/peerfetch.js`);
  await plain.page.setContent('<!doctype html><title>bench</title>');
  await plain.page.addScriptTag({ url: `${registrar.url}/peerfetch.js` });
  await plain.page.addScriptTag({ content: PAGE_HELPERS });
  const call = <T>(page: Page, fn: string, ...args: unknown[]): Promise<T> =>
    page.evaluate(
      ({ fn, args }) =>
        (window as unknown as { bench: Record<string, (...a: unknown[]) => Promise<T>> }).bench[
          fn
        ]!(...args),
      { fn, args },
    );

  const rows: [string, string, string][] = [];

  // 1. connect → first response, with where the time went (the session's own marks, and
  // the agent's: its `session setup timing` debug line, with BENCH_AGENT_LOG_LEVEL=debug)
  if (SECTIONS.has('connect')) {
    type Connected = {
      ms: number;
      phases: Record<string, number>;
      sessionId: string;
      startedAt: number;
    };
    const connectOnce = () =>
      call<Connected>(plain.page, 'connectAndGet', registrar.url, token, device.id);
    const first = (await connectOnce()).ms;
    const runs: Connected[] = [];
    for (let i = 0; i < CONNECT_N; i++) runs.push(await connectOnce());
    const connect = runs.map((r) => r.ms);
    // per step: median of (end of this step − end of the previous one)
    const STEPS = ['grant', 'signaling', 'offer', 'answer', 'ice', 'channel', 'verified'] as const;
    const stepTimes = (i: number): number[] =>
      runs.map(
        (r) => (r.phases[STEPS[i]!] ?? NaN) - (i === 0 ? 0 : (r.phases[STEPS[i - 1]!] ?? NaN)),
      );
    const steps = Object.fromEntries(STEPS.map((step, i) => [step, round(median(stepTimes(i)))]));
    const stepsP95 = Object.fromEntries(
      STEPS.map((step, i) => [step, round(quantile(stepTimes(i), 0.95))]),
    );
    steps['first response'] = round(median(runs.map((r) => r.ms - (r.phases['verified'] ?? NaN))));
    // The agent's view (its `session setup timing` lines): ms from the offer's arrival to
    // each step. Both clocks are the machine's, so each agent step is placed on the
    // console's time axis (ms since connect()) and the medians of both sides make one
    // timeline: `console …` and `agent …` steps, in order.
    type AgentTiming = { sessionId: string; offerAt: number; setupMs: Record<string, number> };
    await new Promise((r) => setTimeout(r, 200)); // the last lines through the pipe
    const agentLines = new Map(
      agent
        .output()
        .split('\n')
        .filter((line) => line.includes('"session setup timing"'))
        .map((line) => JSON.parse(line) as AgentTiming)
        .map((t) => [t.sessionId, t]),
    );
    const events = new Map<string, number[]>();
    const perRun: Record<string, number>[] = [];
    let run: Record<string, number> = {};
    const add = (key: string, ms: number): void => {
      events.set(key, [...(events.get(key) ?? []), ms]);
      run[key] = round(ms);
    };
    let agentSamples = 0;
    for (const r of runs) {
      run = {};
      perRun.push(run);
      for (const [k, v] of Object.entries(r.phases)) add(`console ${k}`, v);
      add('console first response', r.ms);
      const a = agentLines.get(r.sessionId);
      if (!a) continue;
      agentSamples++;
      const shift = a.offerAt - r.startedAt;
      add('agent offer received', shift);
      for (const [k, v] of Object.entries(a.setupMs)) add(`agent ${k}`, shift + v);
    }
    const timeline = Object.fromEntries(
      [...events]
        .map(([k, xs]): [string, number] => [k, round(median(xs))])
        .sort((a, b) => a[1] - b[1]),
    );
    results['connectToFirstResponseMs'] = {
      first: round(first),
      n: CONNECT_N,
      p50: round(median(connect)),
      p95: round(quantile(connect, 0.95)),
      stepsMedianMs: steps,
      stepsP95Ms: stepsP95,
      timelineMedianMs: timeline,
      agentSamples,
      timelines: perRun,
      samples: connect.map((x) => round(x)),
    };
    rows.push(
      [
        'connect → first response p50 / p95',
        `${round(median(connect))} / ${round(quantile(connect, 0.95))} ms`,
        'target p50 ≤ 150 ms',
      ],
      ['connect → first response, first contact', `${round(first)} ms`, 'TOFU pin'],
      [
        '  where it goes (medians, ms)',
        Object.entries(steps)
          .map(([k, v]) => `${k} ${v}`)
          .join(', '),
        '',
      ],
    );
    rows.push([
      '  timeline (medians, ms since connect())',
      '',
      agentSamples > 0 ? `agent steps from ${agentSamples} sessions` : 'no agent timing',
    ]);
    for (const [k, v] of Object.entries(timeline)) rows.push([`    ${k}`, String(v), '']);
  }

  // 3a. Chromium ← agent over peer-http
  let agentRates: number[] = [];
  if (SECTIONS.has('throughput')) {
    agentRates = await call<number[]>(
      plain.page,
      'download',
      registrar.url,
      token,
      device.id,
      `/_agent/clips/${BIG}`,
      RUNS,
      BODY,
    );
  }

  // 4. sessions per agent
  if (SECTIONS.has('sessions')) {
    const sessions: Record<string, unknown>[] = [];
    for (const k of SESSIONS) {
      const r = await call<{ connectedMs: number; readMs: number; ok: number }>(
        plain.page,
        'sessions',
        registrar.url,
        token,
        device.id,
        `/_agent/clips/${BIG}`,
        k,
        4 * MiB,
      );
      sessions.push({
        sessions: k,
        ok: r.ok,
        allConnectedMs: round(r.connectedMs),
        aggregateMiBps: round((k * 4) / (r.readMs / 1000)),
      });
    }
    results['sessionsPerAgent'] = sessions;
    rows.push(
      ...sessions.map((s): [string, string, string] => [
        `${String(s['sessions'])} sessions at once`,
        `${String(s['ok'])} ok, all up in ${String(s['allConnectedMs'])} ms`,
        `${String(s['aggregateMiBps'])} MiB/s together`,
      ]),
    );
  }
  await plain.context.close();

  // 2. time to first frame, in the console UI
  if (SECTIONS.has('ttff')) {
    const ui = await openPage(browser, VIEWPORTS[1]);
    await ui.page.goto(`${registrar.url}/`);
    await ui.page.getByLabel('Email').fill(ADMIN.email);
    await ui.page.getByLabel('Password').fill(ADMIN.password);
    await ui.page.getByRole('button', { name: 'Sign in' }).click();
    await ui.page.getByRole('link', { name: DEVICE, exact: true }).waitFor({ timeout: 20_000 });
    await ui.page.goto(`${registrar.url}/devices/${device.id}/session?connect=1`);
    await waitFor('session verified', async () =>
      (await ui.page.getByTestId('session-state').textContent()) === 'Verified' ? true : undefined,
    );
    await ui.page.getByRole('tab', { name: 'Clips' }).click();
    const ttff: number[] = [];
    for (let i = 0; i < TTFF_N; i++) {
      await ui.page.evaluate(ARM_TTFF);
      await ui.page.getByRole('button', { name: `Play ${CLIP}` }).click();
      const ms = await waitFor('first frame', async () => {
        const v = await ui.page.evaluate('window.ttff');
        if (typeof v === 'string') throw new Error(v);
        return typeof v === 'number' ? v : undefined;
      });
      ttff.push(ms);
      await ui.page.getByRole('button', { name: 'Close player' }).click();
    }
    if (ui.errors.length > 0) throw new Error(`console page errors: ${ui.errors.join('; ')}`);
    results['clipTimeToFirstFrameMs'] = {
      first: round(ttff[0] ?? NaN),
      n: TTFF_N,
      p50: round(median(ttff)),
      samples: ttff.map((x) => round(x)),
    };
    rows.push([
      'clip first frame p50 (first)',
      `${round(median(ttff))} ms (${round(ttff[0] ?? NaN)} ms)`,
      'target ≤ 500 ms',
    ]);
    await ui.context.close();
  }

  // 3b. the raw DataChannel ceiling, same run (libs/peer-http's bench, Chromium section)
  if (SECTIONS.has('throughput')) {
    const peer = subBench<PeerHttpBench>(join(ROOT, 'libs/peer-http'), 'bench/bench.ts', {
      BENCH_SECTIONS: 'chromium',
      BENCH_RUNS: String(RUNS),
      BENCH_BODY: String(BODY),
    });
    const tp = peer.throughputMiBps;
    const raw = median(tp['chromium←node raw DataChannel'] ?? []);
    results['throughputMiBps'] = {
      'chromium←agent peer-http (64 MiB file)': agentRates.map((x) => round(x)),
      'chromium←node-datachannel raw DataChannel': tp['chromium←node raw DataChannel'],
      'chromium←node-datachannel peer-http': tp['chromium←node peer-http'],
    };
    results['peerHttpToRawRatio'] = round(median(agentRates) / raw, 3);
    rows.push(
      [
        'Chromium←agent peer-http',
        `${round(median(agentRates))} MiB/s`,
        `raw DataChannel ${round(raw)} MiB/s`,
      ],
      ['peer-http / raw DataChannel', String(results['peerHttpToRawRatio']), 'target ≥ 0.9'],
    );
  }

  // 5. registrar signalings/s
  if (SECTIONS.has('signaling')) {
    const reg = subBench<RegistrarBench>(
      join(ROOT, 'apps/registrar'),
      'bench/signaling-bench.mjs',
      {
        BENCH_AGENTS: String(SIGNAL_AGENTS),
        BENCH_BROKER: 'aedes',
        BENCH_SECONDS: '10',
        BENCH_POSTGRES_URL: 'postgresql://postgres@localhost/postgres?host=/var/run/postgresql',
      },
    );
    if (reg.runs.length === 0) throw new Error('the registrar bench reported no run');
    // one run per session-request path: on the signaling socket, and POST /api/sessions
    // (what this console does)
    results['registrarSignaling'] = reg.runs.map((r) => ({
      agents: r.agents,
      sessionRequest: r.sessionRequest,
      signalingsPerSecond: round(r.signalingsPerSecond),
      p50Ms: round(r.latencyMs.p50),
      p99Ms: round(r.latencyMs.p99),
      failures: r.failures,
    }));
    for (const r of reg.runs) {
      rows.push([
        `registrar signalings/s (${SIGNAL_AGENTS} agents, grant via ${r.sessionRequest})`,
        String(r.signalingsPerSecond.toFixed(0)),
        `p50 ${round(r.latencyMs.p50)} ms`,
      ]);
    }
  }
  results['sections'] = [...SECTIONS];
  results['finishedAt'] = new Date().toISOString();

  const out = resolve(ROOT, process.env['BENCH_OUT'] ?? 'artifacts/bench/system.json');
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, `${JSON.stringify(results, null, 2)}\n`);
  const w0 = Math.max(...rows.map((r) => r[0].length));
  const w1 = Math.max(...rows.map((r) => r[1].length));
  console.log(`\nsystem bench (${JSON.stringify(results['machine'])})\n`);
  for (const [a, b, note] of rows) console.log(`${a.padEnd(w0)}  ${b.padEnd(w1)}  ${note}`);
  console.log(`\nwrote ${out}`);
} finally {
  for (const c of cleanups.reverse()) await Promise.resolve(c()).catch(() => undefined);
  await db.drop();
  rmSync(work, { recursive: true, force: true });
}
