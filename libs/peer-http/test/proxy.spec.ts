import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createUpstreamProxy, UPSTREAM_HEADER } from '../src/node/proxy.js';
import { createPeerFetch, servePeerHttp, type PeerHttpSession } from '../src/session.js';
import { createMemoryTransportPair } from '../src/transports/memory.js';

const FILE = new Uint8Array(10_000).map((_, i) => (i * 7) & 255);
const ETAG = '"v1"';
let seen: IncomingMessage | undefined;

function upstream(): Server {
  return createServer((req, res) => {
    seen = req;
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.pathname === '/file') {
      if (req.headers['if-none-match'] === ETAG) {
        res.writeHead(304, { etag: ETAG }).end();
        return;
      }
      const range = /^bytes=(\d+)-(\d+)$/.exec(req.headers.range ?? '');
      if (range) {
        const [start, end] = [Number(range[1]), Number(range[2])];
        res.writeHead(206, {
          'content-range': `bytes ${start}-${end}/${FILE.length}`,
          'accept-ranges': 'bytes',
          etag: ETAG,
        });
        res.end(FILE.subarray(start, end + 1));
        return;
      }
      res
        .writeHead(200, { etag: ETAG, connection: 'keep-alive', 'keep-alive': 'timeout=5' })
        .end(FILE);
      return;
    }
    if (url.pathname === '/upload') {
      const hash = createHash('sha256');
      let length = 0;
      req.on('data', (chunk: Uint8Array) => {
        hash.update(chunk);
        length += chunk.length;
      });
      req.on('end', () => {
        res.writeHead(201, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ sha256: hash.digest('hex'), length, method: req.method }));
      });
      return;
    }
    if (url.pathname === '/headers') {
      res.writeHead(200, { 'content-type': 'application/json', 'set-cookie': ['a=1', 'b=2'] });
      res.end(JSON.stringify({ headers: req.headers, url: req.url }));
      return;
    }
    res.writeHead(404).end('no');
  });
}

describe('createUpstreamProxy', () => {
  let server: Server;
  let other: Server;
  let origin: string;
  let otherOrigin: string;
  let deadOrigin: string;
  let client: PeerHttpSession;
  let agent: PeerHttpSession;
  const errors: unknown[] = [];

  const listen = async (s: Server) => {
    await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(s.address() as AddressInfo).port}`;
  };

  beforeAll(async () => {
    server = upstream();
    other = upstream();
    origin = await listen(server);
    otherOrigin = await listen(other);
    const dead = createServer();
    deadOrigin = await listen(dead);
    await new Promise((resolve) => dead.close(resolve));
    const [a, b] = createMemoryTransportPair();
    agent = servePeerHttp(
      b,
      createUpstreamProxy({
        origins: [origin, deadOrigin],
        defaultOrigin: origin,
        onError: (e) => errors.push(e),
      }),
    );
    client = createPeerFetch(a);
  });

  afterAll(async () => {
    await client.close();
    await agent.closed;
    server.closeAllConnections();
    other.closeAllConnections();
    await Promise.all([new Promise((r) => server.close(r)), new Promise((r) => other.close(r))]);
  });

  it('streams a download and strips hop-by-hop response headers', async () => {
    const response = await client.get('/file');
    expect(response.status).toBe(200);
    expect(new Uint8Array(await response.arrayBuffer())).toEqual(FILE);
    expect(response.headers.get('etag')).toBe(ETAG);
    expect(response.headers.has('keep-alive')).toBe(false);
    expect(response.headers.has('connection')).toBe(false);
  });

  it('passes Range and conditional requests through', async () => {
    const partial = await client.get('/file', { headers: { range: 'bytes=100-199' } });
    expect(partial.status).toBe(206);
    expect(partial.headers.get('content-range')).toBe('bytes 100-199/10000');
    expect(new Uint8Array(await partial.arrayBuffer())).toEqual(FILE.subarray(100, 200));
    const cached = await client.get('/file', { headers: { 'if-none-match': ETAG } });
    expect(cached.status).toBe(304);
    expect(seen?.headers['if-none-match']).toBe(ETAG);
  });

  it('streams a request body upstream', async () => {
    const chunks = Array.from({ length: 64 }, (_, i) => new Uint8Array(16384).fill(i));
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        const next = chunks.shift();
        if (next) controller.enqueue(next);
        else controller.close();
      },
    });
    const expected = createHash('sha256');
    for (let i = 0; i < 64; i++) expected.update(new Uint8Array(16384).fill(i));
    const response = await client.put('/upload', body, { duplex: 'half' } as RequestInit);
    expect(response.status).toBe(201);
    expect(await response.json()).toEqual({
      sha256: expected.digest('hex'),
      length: 64 * 16384,
      method: 'PUT',
    });
  });

  it('forwards end-to-end headers with the upstream host, and not the selector or hop-by-hop ones', async () => {
    const response = await client.get('/headers?q=1', {
      headers: {
        'x-custom': 'yes',
        [UPSTREAM_HEADER]: origin,
        connection: 'x-secret',
        'x-secret': 'no',
        te: 'trailers',
      },
    });
    const { headers, url } = (await response.json()) as {
      headers: Record<string, string>;
      url: string;
    };
    expect(url).toBe('/headers?q=1');
    expect(headers['x-custom']).toBe('yes');
    expect(headers['host']).toBe(origin.slice('http://'.length));
    expect(headers[UPSTREAM_HEADER]).toBeUndefined();
    expect(headers['x-secret']).toBeUndefined();
    expect(response.headers.getSetCookie()).toEqual(['a=1', 'b=2']);
  });

  it('refuses origins that are not allow-listed with 403 and a JSON error', async () => {
    for (const bad of [
      otherOrigin,
      origin.replace('127.0.0.1', 'localhost'),
      origin.replace('http:', 'https:'),
      'file:///etc/passwd',
      `${origin}/path`,
      'nonsense',
    ]) {
      const response = await client.get('/file', { headers: { [UPSTREAM_HEADER]: bad } });
      expect(response.status, bad).toBe(403);
      expect(((await response.json()) as { error: string }).error).toBe('origin not allowed');
    }
  });

  it('answers 502 when an allowed upstream is down', async () => {
    const response = await client.get('/file', { headers: { [UPSTREAM_HEADER]: deadOrigin } });
    expect(response.status).toBe(502);
    expect(await response.json()).toEqual({ error: 'upstream unreachable' });
    expect(errors.length).toBeGreaterThan(0);
  });

  it('rejects a bad configuration', () => {
    expect(() => createUpstreamProxy({ origins: ['ftp://x'] })).toThrow(TypeError);
    expect(() => createUpstreamProxy({ origins: [origin], defaultOrigin: otherOrigin })).toThrow(
      TypeError,
    );
  });
});
