// E2E harness: the built console served over HTTP on loopback, the registrar's REST API
// answered by the console's FakeRegistrar, except POST /api/sessions (a real grant signed by
// a test registrar key) and the WebSocket /api/signal, which is bridged straight to a REAL
// edge-agent answerer (node-datachannel) in this process: real handshake, real peer-http,
// real clips directory and demo upstream.
import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, normalize, resolve } from 'node:path';
import {
  decodeGrantUnverified,
  type Ed25519KeyPair,
  exportPrivateJwk,
  exportPublicJwk,
  importPublicJwk,
  signGrant,
  type Role,
} from '@peerfetch/crypto';
import { WebSocketServer, type WebSocket } from 'ws';
import type { AuditEventInput } from '../../../edge-agent/src/audit/audit-log.js';
import { createClipsHandler } from '../../../edge-agent/src/clips/clips.js';
import { startDemoUpstream } from '../../../edge-agent/src/demo/upstream.js';
import { createUpstreamProxy } from '../../../edge-agent/src/http/proxy.js';
import { createAgentRouter } from '../../../edge-agent/src/http/router.js';
import type { DeviceIdentity } from '../../../edge-agent/src/identity.js';
import { silentLogger } from '../../../edge-agent/src/log.js';
import type { SignalIn, SignalOut } from '../../../edge-agent/src/mqtt/topics.js';
import { WebRtcAnswerer } from '../../../edge-agent/src/webrtc/answerer.js';
import { DEMO_IDS, FakeRegistrar } from '../../src/testing/fake-registrar.js';

export const DEVICE_ID = DEMO_IDS.gate;
const ROLES: Record<string, Role> = { [DEMO_IDS.ada]: 'admin', [DEMO_IDS.bob]: 'viewer' };

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
};

/** A plain HTML page that only loads the standalone bundle (nothing of the console app). */
const PLAIN_PAGE = '<!doctype html><title>plain</title><script src="/peerfetch.js"></script>';

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

/** One clip request as the agent's clips handler saw it; `delivered` grows as it streams. */
export interface ClipRequest {
  path: string;
  range: string | null;
  status: number;
  delivered: number;
}

/**
 * Paces a body to `bytesPerSecond` (64 KiB slices), so a test can observe a player that
 * starts before the whole file has arrived, and seeks with a new Range request.
 */
function paced(
  body: ReadableStream<Uint8Array>,
  bytesPerSecond: number,
  onChunk: (n: number) => void,
): ReadableStream<Uint8Array> {
  const reader = body.getReader();
  const SLICE = 64 * 1024;
  let pending: Uint8Array | undefined;
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        if (!pending || pending.byteLength === 0) {
          const { done, value } = await reader.read();
          if (done) {
            controller.close();
            return;
          }
          pending = value;
        }
        const slice = pending.subarray(0, SLICE);
        pending = pending.subarray(slice.byteLength);
        await new Promise((r) => setTimeout(r, (slice.byteLength / bytesPerSecond) * 1000));
        onChunk(slice.byteLength);
        controller.enqueue(slice);
      },
      cancel: (reason) => reader.cancel(reason),
    },
    { highWaterMark: 0 },
  );
}

export interface Harness {
  url: string;
  clipRequests: ClipRequest[];
  registrar: FakeRegistrar;
  audits: AuditEventInput[];
  upstreamUrl: string;
  close(): Promise<void>;
}

export async function startHarness(options: {
  distDir: string;
  clipsDir: string;
  registrarKey: Ed25519KeyPair;
  devicePair: Ed25519KeyPair;
  /** Clips whose bodies are paced (bytes per second). */
  paced?: Record<string, number>;
}): Promise<Harness> {
  const { registrarKey, devicePair } = options;
  const registrar = FakeRegistrar.demo();
  const audits: AuditEventInput[] = [];
  const upstream = await startDemoUpstream({ name: 'gate-camera', port: 0 });
  const identity: DeviceIdentity = {
    deviceId: DEVICE_ID,
    orgId: DEMO_IDS.acme,
    publicKey: exportPublicJwk(devicePair.publicKey),
    privateKey: exportPrivateJwk(devicePair),
    registrarKey: exportPublicJwk(registrarKey.publicKey),
    registrarUrl: 'https://registrar.invalid',
    mqtt: { url: 'mqtt://127.0.0.1:1', username: DEVICE_ID, password: 'x' },
    name: 'gate-camera',
    enrolledAt: 0,
  };
  const sockets = new Map<string, WebSocket>();
  const clipRequests: ClipRequest[] = [];
  const clipsHandler = createClipsHandler({ clipsDir: options.clipsDir });
  async function clips(request: Request): Promise<Response> {
    const response = await clipsHandler(request);
    const path = new URL(request.url).pathname;
    const entry: ClipRequest = {
      path,
      range: request.headers.get('range'),
      status: response.status,
      delivered: 0,
    };
    clipRequests.push(entry);
    const rate = options.paced?.[decodeURIComponent(path.split('/').pop() ?? '')];
    if (!response.body || rate === undefined) return response;
    return new Response(
      paced(response.body, rate, (n) => (entry.delivered += n)),
      response,
    );
  }
  const answerer = new WebRtcAnswerer({
    identity,
    handlerFor: createAgentRouter({
      clips,
      proxy: createUpstreamProxy({ origins: [upstream.url] }),
      info: () => ({ deviceId: DEVICE_ID, name: 'gate-camera' }),
      audit: (e) => audits.push(e),
    }),
    send: (m: SignalOut) => {
      const ws = sockets.get(m.sessionId);
      if (ws?.readyState === ws?.OPEN) ws?.send(JSON.stringify(m));
      return Promise.resolve();
    },
    log: silentLogger(),
    maxSessions: 8,
    idleTimeoutS: 120,
    bindAddress: '127.0.0.1',
  });

  const distDir = resolve(options.distDir);
  async function serveStatic(path: string): Promise<{ body: Buffer; type: string }> {
    if (path === '/plain.html') return { body: Buffer.from(PLAIN_PAGE), type: TYPES['.html']! };
    const file = normalize(join(distDir, decodeURIComponent(path)));
    if (file.startsWith(distDir) && extname(file) !== '') {
      try {
        return {
          body: await readFile(file),
          type: TYPES[extname(file)] ?? 'application/octet-stream',
        };
      } catch {
        // fall through to the SPA entry
      }
    }
    return { body: await readFile(join(distDir, 'index.html')), type: TYPES['.html']! };
  }

  async function sessions(body: Buffer): Promise<Response> {
    const session = registrar.session;
    const role = session ? ROLES[session.userId] : undefined;
    if (!session || !role) return Response.json({ code: 'FORBIDDEN' }, { status: 403 });
    const input = JSON.parse(body.toString()) as { deviceId: string; sessionKey: unknown };
    if (input.deviceId !== DEVICE_ID) return Response.json({ code: 'NOT_FOUND' }, { status: 404 });
    const sessionId = randomUUID();
    const grant = await signGrant(
      {
        issuer: 'e2e-registrar',
        userId: session.userId,
        deviceId: DEVICE_ID,
        orgId: session.orgId,
        role,
        sessionKey: importPublicJwk(input.sessionKey),
        sessionId,
      },
      registrarKey,
    );
    return Response.json({
      sessionId,
      deviceId: DEVICE_ID,
      role,
      grant,
      expiresAt: new Date(Date.now() + 300_000).toISOString(),
      iceServers: [],
    });
  }

  const server: Server = createServer((req, res) => {
    void (async () => {
      try {
        const url = new URL(req.url ?? '/', 'http://127.0.0.1');
        if (url.pathname.startsWith('/api/')) {
          const body = await readBody(req);
          const response =
            url.pathname === '/api/sessions' && req.method === 'POST'
              ? await sessions(body)
              : await registrar.handle(
                  new Request(url, {
                    method: req.method ?? 'GET',
                    headers: req.headers as Record<string, string>,
                    ...(body.length > 0 ? { body: new Uint8Array(body) } : {}),
                  }),
                );
          res.writeHead(response.status, Object.fromEntries(response.headers));
          res.end(Buffer.from(await response.arrayBuffer()));
          return;
        }
        const file = await serveStatic(url.pathname);
        res.writeHead(200, { 'content-type': file.type, 'cache-control': 'no-store' });
        res.end(file.body);
      } catch (error) {
        res.writeHead(500);
        res.end(String(error));
      }
    })();
  });

  // the registrar's signaling protocol (docs/signaling.md), relayed to the answerer
  const wss = new WebSocketServer({
    noServer: true,
    handleProtocols: (protocols) => (protocols.has('pf-signal.v1') ? 'pf-signal.v1' : false),
  });
  server.on('upgrade', (req, socket, head) => {
    if (new URL(req.url ?? '/', 'http://x').pathname !== '/api/signal' || !registrar.session) {
      socket.destroy();
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      ws.send(
        JSON.stringify({
          type: 'ready',
          userId: registrar.session?.userId,
          orgId: registrar.session?.orgId,
        }),
      );
      ws.on('message', (data) => {
        const m = JSON.parse((data as Buffer).toString('utf8')) as Record<string, string>;
        let forward: SignalIn | undefined;
        if (m['type'] === 'offer') {
          const sid = decodeGrantUnverified(m['grant'] ?? '').sid;
          if (!sid || m['deviceId'] !== DEVICE_ID) {
            ws.send(JSON.stringify({ type: 'error', code: 'GRANT_INVALID', message: 'bad offer' }));
            return;
          }
          sockets.set(sid, ws);
          ws.send(JSON.stringify({ type: 'session', sessionId: sid, deviceId: DEVICE_ID }));
          forward = {
            type: 'offer',
            sessionId: sid,
            sdp: m['sdp'] ?? '',
            grant: m['grant'] ?? '',
            iceServers: [],
          };
        } else if (m['type'] === 'candidate' && sockets.get(m['sessionId'] ?? '') === ws) {
          forward = {
            type: 'candidate',
            sessionId: m['sessionId'] ?? '',
            candidate: m['candidate'] ?? '',
            mid: m['mid'] ?? '0',
          };
        } else if (m['type'] === 'hangup' && sockets.get(m['sessionId'] ?? '') === ws) {
          forward = {
            type: 'hangup',
            sessionId: m['sessionId'] ?? '',
            reason: m['reason'] ?? 'hangup',
          };
        }
        if (forward) void answerer.handle(forward);
      });
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    registrar,
    audits,
    clipRequests,
    upstreamUrl: upstream.url,
    async close() {
      await answerer.closeAll('test end');
      for (const ws of wss.clients) ws.terminate();
      wss.close();
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
      await upstream.close();
    },
  };
}
