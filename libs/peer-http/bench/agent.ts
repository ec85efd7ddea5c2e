// The bench's "agent": a separate process that answers WebRTC offers with node-datachannel
// (from the bench's own node-datachannel peer or from Chromium), and serves
//  - raw DataChannel: echo, or "send n bytes" (see protocol.ts);
//  - peer-http: GET /bytes?n= (a streamed body), GET /small (a few bytes);
//  - core: GET /small with the core API (a coreHandler: no Request/Response objects);
//  - plain HTTP on loopback TCP: the same two routes.
// It samples its own RSS on request (rss-start / rss-stop).
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import nodeDataChannel, { type PeerConnection } from 'node-datachannel';
import { createPeerHttp, servePeerHttp, type PeerCoreHandler } from '../src/index.js';
import { nodeDataChannelTransport } from '../src/node/node-datachannel.js';
import type { Transport } from '../src/transport.js';
import { Answerer } from '../test/webrtc/chromium.js';
import { loopbackRtcConfig } from '../test/webrtc/node-pair.js';
import {
  RAW_CHUNK,
  RAW_HIGH_WATER,
  RAW_LATE_ECHO,
  RAW_LOW_WATER,
  RAW_SEND,
  benchPeerOptions,
  type AgentMode,
  type FromAgent,
  type ToAgent,
} from './protocol.js';

const CHUNK = new Uint8Array(RAW_CHUNK).fill(0x5a);
const SMALL = new TextEncoder().encode('pong');

function post(message: FromAgent): void {
  process.send?.(message);
}

/** A body of n bytes, produced only as fast as it is read. */
function byteStream(n: number): ReadableStream<Uint8Array> {
  let left = n;
  return new ReadableStream<Uint8Array>(
    {
      pull(controller) {
        if (left <= 0) {
          controller.close();
          return;
        }
        const size = Math.min(left, CHUNK.byteLength);
        left -= size;
        controller.enqueue(CHUNK.subarray(0, size));
      },
    },
    { highWaterMark: 0 },
  );
}

function handle(request: Request): Response {
  const url = new URL(request.url);
  if (url.pathname === '/bytes') {
    const n = Number(url.searchParams.get('n') ?? '0');
    if (!Number.isSafeInteger(n) || n < 0) return new Response('bad n', { status: 400 });
    return new Response(byteStream(n), {
      headers: { 'content-type': 'application/octet-stream', 'content-length': String(n) },
    });
  }
  if (url.pathname === '/small') return new Response(SMALL);
  return new Response('not found', { status: 404 });
}

/** Raw mode: echo, or send n bytes with bufferedAmount backpressure. */
function serveRaw(transport: Transport): void {
  transport.bufferedAmountLowThreshold = RAW_LOW_WATER;
  let sending = 0;
  const pump = (): void => {
    while (sending > 0 && transport.isOpen && transport.bufferedAmount < RAW_HIGH_WATER) {
      const size = Math.min(sending, CHUNK.byteLength);
      transport.send(size === CHUNK.byteLength ? CHUNK : CHUNK.subarray(0, size));
      sending -= size;
    }
  };
  transport.onBufferedAmountLow(pump);
  transport.onMessage((message) => {
    if (message[0] === RAW_SEND && message.byteLength === 9) {
      sending += new DataView(message.buffer, message.byteOffset, 9).getFloat64(1);
      pump();
    } else if (message[0] === RAW_LATE_ECHO && message.byteLength === 9) {
      const micros = new DataView(message.buffer, message.byteOffset, 9).getFloat64(1);
      const until = performance.now() + micros / 1000;
      while (performance.now() < until); // busy, like a handler: no sleep
      transport.send(message);
    } else {
      transport.send(message);
    }
  });
}

/** The core-API twin of {@link handle}'s /small (the same status, field and body). */
const handleCore: PeerCoreHandler = (request) =>
  request.target === '/small'
    ? { status: 200, headers: [['content-type', 'text/plain;charset=UTF-8']], body: SMALL }
    : { status: 404, body: 'not found' };

const sessions = new Map<number, { pc: PeerConnection; answerer: Answerer; close(): void }>();

function session(id: number, mode: AgentMode) {
  let entry = sessions.get(id);
  if (entry !== undefined) return entry;
  const pc = new nodeDataChannel.PeerConnection(`agent-${id}`, loopbackRtcConfig());
  const fail = (error: unknown): void =>
    post({ t: 'error', message: error instanceof Error ? error.message : String(error) });
  const answerer = new Answerer(pc, (message) => post({ t: 'signal', session: id, message }), fail);
  let transport: Transport | undefined;
  pc.onStateChange((state) => {
    if (state === 'failed') fail(new Error(`session ${id}: the agent's peer connection failed`));
  });
  pc.onDataChannel((dc) => {
    try {
      transport = nodeDataChannelTransport(dc);
      if (mode === 'raw') serveRaw(transport);
      else if (mode === 'core') {
        createPeerHttp(transport, {
          coreHandler: handleCore,
          maxConcurrentStreams: 2000,
          ...benchPeerOptions(),
        });
      } else {
        servePeerHttp(transport, handle, { maxConcurrentStreams: 2000, ...benchPeerOptions() });
      }
      post({ t: 'open', session: id });
    } catch (error) {
      fail(error);
    }
  });
  entry = {
    pc,
    answerer,
    close: () => {
      transport?.close();
      pc.close();
    },
  };
  sessions.set(id, entry);
  return entry;
}

let rssTimer: NodeJS.Timeout | undefined;
let rssBaseline = 0;
let rssPeak = 0;
let rssSamples = 0;

function sampleRss(): void {
  const rss = process.memoryUsage.rss();
  rssPeak = Math.max(rssPeak, rss);
  rssSamples += 1;
}

process.on('message', (raw: ToAgent) => {
  try {
    switch (raw.t) {
      case 'signal':
        session(raw.session, raw.mode).answerer.receive(raw.message);
        break;
      case 'close':
        sessions.get(raw.session)?.close();
        sessions.delete(raw.session);
        break;
      case 'cpu': {
        const { user, system } = process.cpuUsage();
        post({ t: 'cpu', user, system });
        break;
      }
      case 'rss-start':
        (globalThis as { gc?: () => void }).gc?.();
        rssBaseline = process.memoryUsage.rss();
        rssPeak = rssBaseline;
        rssSamples = 0;
        rssTimer = setInterval(sampleRss, 50);
        break;
      case 'rss-stop':
        clearInterval(rssTimer);
        sampleRss();
        post({ t: 'rss', baseline: rssBaseline, peak: rssPeak, samples: rssSamples });
        break;
      case 'exit':
        for (const s of sessions.values()) s.close();
        sessions.clear();
        httpServer.close();
        setTimeout(() => {
          nodeDataChannel.cleanup();
          process.exit(0);
        }, 50);
        break;
    }
  } catch (error) {
    post({ t: 'error', message: error instanceof Error ? error.message : String(error) });
  }
});

const httpServer = createServer((req, res) => {
  const url = new URL(req.url ?? '/', 'http://agent');
  res.setHeader('access-control-allow-origin', '*');
  if (url.pathname === '/small') {
    res.writeHead(200, { 'content-length': SMALL.byteLength }).end(SMALL);
    return;
  }
  if (url.pathname !== '/bytes') {
    res.writeHead(404).end();
    return;
  }
  let left = Number(url.searchParams.get('n') ?? '0');
  res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': left });
  const write = (): void => {
    while (left > 0) {
      const size = Math.min(left, CHUNK.byteLength);
      left -= size;
      if (!res.write(CHUNK.subarray(0, size))) {
        res.once('drain', write);
        return;
      }
    }
    res.end();
  };
  write();
});
httpServer.listen(0, '127.0.0.1', () => {
  post({ t: 'ready', httpPort: (httpServer.address() as AddressInfo).port });
});
