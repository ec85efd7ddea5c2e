// The "console" of the NAT lab: a node-datachannel offerer in the console-LAN namespace.
// Offers, runs the channel handshake (@peerfetch/crypto consoleHandshake: binds the grant
// and both DTLS fingerprints, so a relay in the middle only ever sees DTLS), fetches a clip
// over peer-http, hashes it while streaming, and reports one `result` line:
// { ok, selected: {local,remote}, setupMs, bytes, sha256, seconds, mibPerS } or { ok:false, error }.
//
// Signaling is JSON lines: SignalIn (offer/candidate/hangup) on stdout for the device,
// SignalOut (answer/candidate/hangup/error) on stdin from it.
//
//   node --conditions=@peerfetch/source --import tsx console.ts <config.json>
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import {
  consoleHandshake,
  createSigner,
  importPrivateJwk,
  parseSdpFingerprint,
} from '@peerfetch/crypto';
import {
  type Transport,
  createPeerFetch,
  nodeDataChannelTransport,
} from '@peerfetch/peer-http/node';
import nodeDataChannel, { type RtcConfig } from 'node-datachannel';
import type { SignalOut } from '../../src/mqtt/topics.js';
import { toNdcIceServers } from '../../src/webrtc/answerer.js';

export interface ConsoleConfig {
  sessionId: string;
  deviceId: string;
  grant: string;
  sessionKey: unknown; // Ed25519 private JWK
  /** This console's ICE servers (its own TURN credentials). */
  iceServers: { urls: string | string[]; username?: string; credential?: string }[];
  /** The device's ICE servers, sent with the offer (as the registrar would). */
  deviceIceServers: { urls: string | string[]; username?: string; credential?: string }[];
  iceTransportPolicy?: 'all' | 'relay';
  path: string;
  timeoutMs: number;
  /**
   * Keep the session after the clip: emit `{type:'event',event:'established'}`, then ping
   * every 250 ms until the session breaks (result ok:false with the reason and the time
   * since the runner's `{type:'mark'}`) or holdMs passes (result ok:true, survived).
   */
  holdMs?: number;
}

const configPath = process.argv[2];
if (!configPath) throw new Error('usage: console.ts <config.json>');
const config = JSON.parse(readFileSync(configPath, 'utf8')) as ConsoleConfig;
const send = (m: unknown) => process.stdout.write(`${JSON.stringify(m)}\n`);

let finished = false;
let established = false;
let markedAt: number | undefined;
/** The held session broke: report why and how long after the runner's mark. */
function broke(reason: string): void {
  finish({
    ok: false,
    error: reason,
    brokeAfterMs: markedAt === undefined ? undefined : Math.round(performance.now() - markedAt),
    states,
  });
}
function finish(result: Record<string, unknown>): void {
  if (finished) return;
  finished = true;
  send({ type: 'result', ...result });
  setImmediate(() => {
    try {
      pc.close();
    } catch {
      // closed
    }
    setTimeout(() => {
      nodeDataChannel.cleanup();
      process.exit(result['ok'] ? 0 : 1);
    }, 100);
  });
}

// libdatachannel's own log (stderr; the test shows it only when a session fails)
nodeDataChannel.initLogger(process.env['NAT_TEST_LOG'] ? 'Verbose' : 'Info', (level, message) => {
  try {
    process.stderr.write(`${new Date().toISOString()} ${level} ${message}\n`);
  } catch {
    // never throw into node-datachannel
  }
});

const started = performance.now();
const rtc: RtcConfig = {
  iceServers: toNdcIceServers(config.iceServers),
  ...(config.iceTransportPolicy ? { iceTransportPolicy: config.iceTransportPolicy } : {}),
};
const pc = new nodeDataChannel.PeerConnection(`console-${config.sessionId}`, rtc);
let remoteSet = false;
const pending: { candidate: string; mid: string }[] = [];
const outgoing: { candidate: string; mid: string }[] = [];
const states: string[] = [];
const localCandidates: string[] = [];

const timer = setTimeout(
  () =>
    finish({
      ok: false,
      error: `no connection within ${config.timeoutMs} ms`,
      states,
      localCandidates,
    }),
  config.timeoutMs,
);

pc.onStateChange((state) => {
  try {
    states.push(state);
    if (state === 'failed') {
      finish({ ok: false, error: 'ICE failed: no candidate pair works', states, localCandidates });
    } else if (state === 'disconnected' && established) {
      broke('connection disconnected (ICE consent lost)');
    }
  } catch {
    // never throw into node-datachannel
  }
});
pc.onLocalDescription((sdp, type) => {
  try {
    if (type !== 'offer') return;
    send({
      type: 'offer',
      sessionId: config.sessionId,
      sdp: sdp.replace(/^a=setup:actpass(\r?)$/gm, 'a=setup:active$1'),
      grant: config.grant,
      iceServers: config.deviceIceServers,
    });
  } catch {
    // idem
  }
});
pc.onLocalCandidate((candidate, mid) => {
  try {
    localCandidates.push(candidate);
    // sent once the answer is applied (libdatachannel fingerprint race: see
    // test/system/harness.ts)
    if (remoteSet) send({ type: 'candidate', sessionId: config.sessionId, candidate, mid });
    else outgoing.push({ candidate, mid });
  } catch {
    // idem
  }
});

createInterface({ input: process.stdin }).on('line', (line) => {
  try {
    const m = JSON.parse(line) as SignalOut | { type: 'mark' };
    if (m.type === 'mark') {
      markedAt = performance.now();
    } else if (m.type === 'answer') {
      pc.setRemoteDescription(m.sdp, 'answer');
      remoteSet = true;
      for (const c of pending.splice(0)) pc.addRemoteCandidate(c.candidate, c.mid);
      for (const c of outgoing.splice(0))
        send({ type: 'candidate', sessionId: config.sessionId, ...c });
    } else if (m.type === 'candidate') {
      if (remoteSet) pc.addRemoteCandidate(m.candidate, m.mid);
      else pending.push({ candidate: m.candidate, mid: m.mid });
    } else if (established && (m.type === 'hangup' || m.type === 'error')) {
      broke(`device: ${m.type} ${m.reason}`);
    } else if (m.type === 'hangup' || m.type === 'error') {
      finish({ ok: false, error: `device: ${m.type} ${m.reason}`, states, localCandidates });
    }
  } catch (err) {
    finish({ ok: false, error: `signaling: ${String(err)}`, states, localCandidates });
  }
});

const dc = pc.createDataChannel('peer-http');
const opened = new Promise<Transport>((resolve) =>
  dc.onOpen(() => {
    try {
      resolve(nodeDataChannelTransport(dc));
    } catch {
      // idem
    }
  }),
);

async function run(): Promise<void> {
  const transport = await opened;
  await consoleHandshake(transport, {
    deviceId: config.deviceId,
    grant: config.grant,
    sessionKey: createSigner(importPrivateJwk(config.sessionKey)),
    localFingerprint: parseSdpFingerprint(pc.localDescription()?.sdp ?? ''),
    remoteFingerprint: parseSdpFingerprint(pc.remoteDescription()?.sdp ?? ''),
  });
  const setupMs = performance.now() - started;
  clearTimeout(timer);
  const pair = pc.getSelectedCandidatePair();
  const client = createPeerFetch(transport);
  const t0 = performance.now();
  const res = await client.fetch(config.path);
  if (res.status !== 200 || !res.body) throw new Error(`GET ${config.path}: ${res.status}`);
  const hash = createHash('sha256');
  let bytes = 0;
  for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
    hash.update(chunk);
    bytes += chunk.byteLength;
  }
  const seconds = (performance.now() - t0) / 1000;
  const result = {
    ok: true,
    selected: pair && {
      local: {
        type: pair.local.type,
        address: pair.local.address,
        transport: pair.local.transportType,
      },
      remote: {
        type: pair.remote.type,
        address: pair.remote.address,
        transport: pair.remote.transportType,
      },
    },
    setupMs: Math.round(setupMs),
    bytes,
    sha256: hash.digest('hex'),
    seconds,
    mibPerS: bytes / 1024 / 1024 / seconds,
    localCandidates,
  };
  if (config.holdMs === undefined) {
    finish(result);
    void client.close().catch(() => undefined);
    return;
  }
  established = true;
  send({ type: 'event', event: 'established', ...result });
  const until = performance.now() + config.holdMs;
  client.closed.then(
    () => broke('peer-http session closed'),
    (err: unknown) => broke(`peer-http session closed: ${String(err)}`),
  );
  while (!finished && performance.now() < until) {
    await new Promise((r) => setTimeout(r, 250));
    if (finished) return;
    await client.ping().catch((err: unknown) => broke(`ping failed: ${String(err)}`));
  }
  finish({ ...result, survived: true });
}
run().catch((err: unknown) =>
  finish({ ok: false, error: `session: ${String(err)}`, states, localCandidates }),
);
