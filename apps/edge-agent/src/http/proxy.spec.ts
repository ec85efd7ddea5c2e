import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createUpstreamProxy, UPSTREAM_HEADER } from './proxy.js';

interface Seen {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  bodySha: string;
  bodyLength: number;
}

let server: Server;
let origin: string;
let port: number;
let other: Server;
let otherOrigin: string;
const seen: Seen[] = [];
const BIG = 3 * 1024 * 1024 + 7;

function bigBuffer(): Buffer {
  const b = Buffer.alloc(BIG);
  for (let i = 0; i < BIG; i++) b[i] = (i * 31 + 7) & 0xff;
  return b;
}

function listen(s: Server): Promise<number> {
  return new Promise((resolve) =>
    s.listen(0, '127.0.0.1', () => resolve((s.address() as AddressInfo).port)),
  );
}

beforeAll(async () => {
  server = createServer((req, res) => {
    const hash = createHash('sha256');
    let length = 0;
    req.on('data', (c: Buffer) => {
      hash.update(c);
      length += c.length;
    });
    req.on('end', () => {
      seen.push({
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        bodySha: hash.digest('hex'),
        bodyLength: length,
      });
      const path = req.url ?? '';
      if (path.startsWith('/redirect')) {
        res.writeHead(302, { location: 'http://169.254.169.254/latest/meta-data' }).end();
      } else if (path.startsWith('/big')) {
        const big = bigBuffer();
        const range = req.headers.range;
        if (range === 'bytes=100-199') {
          res.writeHead(206, { 'content-range': `bytes 100-199/${BIG}`, 'content-length': '100' });
          res.end(big.subarray(100, 200));
        } else {
          res.writeHead(200, { 'content-length': String(BIG), etag: '"big"' });
          res.end(big);
        }
      } else if (path.startsWith('/not-modified')) {
        res.writeHead(304, { etag: '"v1"' }).end();
      } else {
        res.writeHead(200, {
          'content-type': 'application/json',
          connection: 'keep-alive, x-secret-hop',
          'x-secret-hop': 'drop me',
          'keep-alive': 'timeout=5',
          'set-cookie': ['a=1', 'b=2'],
        });
        res.end(JSON.stringify({ method: req.method, url: req.url, length }));
      }
    });
  });
  port = await listen(server);
  origin = `http://127.0.0.1:${port}`;
  other = createServer((_req, res) => res.end('other'));
  otherOrigin = `http://127.0.0.1:${await listen(other)}`;
});

afterAll(async () => {
  await new Promise((r) => server.close(r));
  await new Promise((r) => other.close(r));
});

const base = 'http://peer.invalid';

describe('createUpstreamProxy', () => {
  it('forwards path + query to the single configured origin, streaming a large body both ways', async () => {
    const proxy = createUpstreamProxy({ origins: [origin] });
    const big = bigBuffer();
    const res = await proxy(
      new Request(`${base}/api/upload?x=1&y=%2F`, {
        method: 'POST',
        body: new Blob([big]).stream(),
        duplex: 'half',
        headers: { 'content-type': 'application/octet-stream' },
      }),
    );
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ method: 'POST', url: '/api/upload?x=1&y=%2F', length: BIG });
    const last = seen.at(-1) as Seen;
    expect(last.bodySha).toBe(createHash('sha256').update(big).digest('hex'));

    const down = await proxy(new Request(`${base}/big`));
    expect(down.headers.get('etag')).toBe('"big"');
    const got = Buffer.from(await down.arrayBuffer());
    expect(createHash('sha256').update(got).digest('hex')).toBe(
      createHash('sha256').update(big).digest('hex'),
    );
  });

  it('passes Range and conditional headers through, and 304 without a body', async () => {
    const proxy = createUpstreamProxy({ origins: [origin] });
    const res = await proxy(
      new Request(`${base}/big`, { headers: { range: 'bytes=100-199', 'if-range': '"big"' } }),
    );
    expect(res.status).toBe(206);
    expect(res.headers.get('content-range')).toBe(`bytes 100-199/${BIG}`);
    expect(Buffer.from(await res.arrayBuffer())).toEqual(bigBuffer().subarray(100, 200));
    expect(seen.at(-1)?.headers['if-range']).toBe('"big"');
    const nm = await proxy(
      new Request(`${base}/not-modified`, { headers: { 'if-none-match': '"v1"' } }),
    );
    expect(nm.status).toBe(304);
    expect(nm.body).toBeNull();
    expect(seen.at(-1)?.headers['if-none-match']).toBe('"v1"');
  });

  it('strips hop-by-hop headers both ways and replaces identity headers', async () => {
    const proxy = createUpstreamProxy({ origins: [origin] });
    const res = await proxy(
      new Request(`${base}/api/hello`, {
        headers: {
          'x-peerfetch-user': 'forged',
          'x-peerfetch-role': 'admin',
          te: 'trailers',
          'proxy-authorization': 'Basic x',
          'accept-encoding': 'gzip',
          'x-keep': 'yes',
        },
      }),
      { userId: 'u-1', role: 'viewer', sessionId: 's-1' },
    );
    expect(res.status).toBe(200);
    expect(res.headers.get('keep-alive')).toBeNull();
    expect(res.headers.get('connection')).toBeNull();
    expect(res.headers.get('x-secret-hop')).toBeNull();
    expect(res.headers.getSetCookie()).toEqual(['a=1', 'b=2']);
    await res.arrayBuffer();
    const h = seen.at(-1)?.headers ?? {};
    expect(h['x-peerfetch-user']).toBe('u-1');
    expect(h['x-peerfetch-role']).toBe('viewer');
    expect(h['x-peerfetch-session']).toBe('s-1');
    expect(h['te']).toBeUndefined();
    expect(h['proxy-authorization']).toBeUndefined();
    expect(h['accept-encoding']).toBe('identity');
    expect(h['x-keep']).toBe('yes');
  });

  it('never follows redirects', async () => {
    const proxy = createUpstreamProxy({ origins: [origin] });
    const res = await proxy(new Request(`${base}/redirect`));
    expect(res.status).toBe(302);
    expect(res.headers.get('location')).toBe('http://169.254.169.254/latest/meta-data');
  });

  it('keeps protocol-relative-looking paths on the origin', async () => {
    const proxy = createUpstreamProxy({ origins: [origin] });
    const res = await proxy(new Request(`${base}//evil.example/x`));
    expect(res.status).toBe(200);
    expect(((await res.json()) as { url: string }).url).toBe('//evil.example/x');
  });

  it('selects among allow-listed origins with the upstream header', async () => {
    const proxy = createUpstreamProxy({ origins: [origin, otherOrigin], defaultOrigin: origin });
    const res = await proxy(
      new Request(`${base}/`, { headers: { [UPSTREAM_HEADER]: `${otherOrigin}/` } }),
    );
    expect(await res.text()).toBe('other');
    expect(seen.at(-1)?.headers[UPSTREAM_HEADER]).toBeUndefined();
  });

  it.each([
    (p: number) => `http://localhost:${p}`,
    (p: number) => `https://127.0.0.1:${p}`,
    (p: number) => `http://127.0.0.1:${p + 1}`,
    (p: number) => `http://127.0.0.2:${p}`,
    (p: number) => `http://user:pw@127.0.0.1:${p}`,
    (p: number) => `http://127.0.0.1:${p}/api`,
    () => 'http://169.254.169.254',
    () => 'file:///etc/passwd',
    () => 'gopher://127.0.0.1:70',
    () => 'not a url',
    (p: number) => `http://[::1]:${p}`,
  ])('403 for a non-listed upstream (%#)', async (make) => {
    const proxy = createUpstreamProxy({ origins: [origin] });
    const before = seen.length;
    const res = await proxy(
      new Request(`${base}/api/hello`, { headers: { [UPSTREAM_HEADER]: make(port) } }),
    );
    expect(res.status).toBe(403);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe(
      'UPSTREAM_NOT_ALLOWED',
    );
    expect(seen.length).toBe(before);
  });

  it('403 when nothing is configured, or several origins and no default', async () => {
    expect((await createUpstreamProxy({ origins: [] })(new Request(`${base}/x`))).status).toBe(403);
    const two = createUpstreamProxy({ origins: [origin, otherOrigin] });
    expect((await two(new Request(`${base}/x`))).status).toBe(403);
  });

  it('refuses a default origin that is not allow-listed', () => {
    expect(() => createUpstreamProxy({ origins: [origin], defaultOrigin: otherOrigin })).toThrow();
  });

  it('502 when the upstream is down', async () => {
    const s = createServer();
    const p = await listen(s);
    await new Promise((r) => s.close(r));
    const res = await createUpstreamProxy({ origins: [`http://127.0.0.1:${p}`] })(
      new Request(`${base}/x`),
    );
    expect(res.status).toBe(502);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe(
      'UPSTREAM_UNREACHABLE',
    );
  });
});
