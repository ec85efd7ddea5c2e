// Demo upstream: the kind of small local REST API a camera or kiosk exposes, for the
// allow-listed proxy to reach (default http://127.0.0.1:8778).
//
//   GET  /api/hello   → {"message":"hello from <name>","device":<name>,"ts":<ms>}
//   GET  /api/time    → {"iso","epochMs","uptimeS"}
//   POST /api/echo    → the request body streamed back, same content type
//   GET  /api/status  → {"status":"ok","name","uptimeS","requests","memRssBytes"}
//
// Standalone: `node dist/demo/upstream.js [--port 8778] [--host 127.0.0.1] [--name cam-1]`.
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

export interface DemoUpstreamOptions {
  name: string;
}

function json(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-store',
  });
  res.end(text);
}

export function createDemoUpstream(options: DemoUpstreamOptions): Server {
  const startedAt = Date.now();
  let requests = 0;
  return createServer((req, res) => {
    requests += 1;
    const path = new URL(req.url ?? '/', 'http://upstream.invalid').pathname;
    const method = req.method ?? 'GET';
    const read = method === 'GET' || method === 'HEAD';
    if (path === '/api/hello' && read) {
      return json(res, 200, {
        message: `hello from ${options.name}`,
        device: options.name,
        ts: Date.now(),
      });
    }
    if (path === '/api/time' && read) {
      const now = Date.now();
      return json(res, 200, {
        iso: new Date(now).toISOString(),
        epochMs: now,
        uptimeS: Math.floor((now - startedAt) / 1000),
      });
    }
    if (path === '/api/status' && read) {
      return json(res, 200, {
        status: 'ok',
        name: options.name,
        uptimeS: Math.floor((Date.now() - startedAt) / 1000),
        requests,
        memRssBytes: process.memoryUsage().rss,
      });
    }
    if (path === '/api/echo') {
      if (method !== 'POST' && method !== 'PUT') {
        res.setHeader('allow', 'POST, PUT');
        return json(res, 405, {
          error: { code: 'METHOD_NOT_ALLOWED', message: 'POST a body to echo it' },
        });
      }
      const headers: Record<string, string> = {
        'content-type': req.headers['content-type'] ?? 'application/octet-stream',
      };
      if (req.headers['content-length'] !== undefined)
        headers['content-length'] = req.headers['content-length'];
      res.writeHead(200, headers);
      req.pipe(res);
      return;
    }
    json(res, 404, { error: { code: 'NOT_FOUND', message: `no route ${method} ${path}` } });
  });
}

export async function startDemoUpstream(
  options: DemoUpstreamOptions & { port?: number; host?: string },
): Promise<{ server: Server; url: string; close: () => Promise<void> }> {
  const server = createDemoUpstream(options);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 8778, options.host ?? '127.0.0.1', () => resolve());
  });
  const { address, port } = server.address() as AddressInfo;
  const host = address.includes(':') ? `[${address}]` : address;
  return {
    server,
    url: `http://${host}:${port}`,
    close: () => new Promise((r) => server.close(() => r())),
  };
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { values } = parseArgs({
    options: {
      port: { type: 'string', default: '8778' },
      host: { type: 'string', default: '127.0.0.1' },
      name: { type: 'string', default: 'demo-device' },
    },
  });
  const up = await startDemoUpstream({
    name: values.name,
    host: values.host,
    port: Number(values.port),
  });
  process.stdout.write(`demo upstream "${values.name}" listening on ${up.url}\n`);
  const stop = (): void => void up.close().then(() => process.exit(0));
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}
