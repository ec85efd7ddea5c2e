/// <reference lib="webworker" />
// Service worker answering `/peer/<sessionId>/<path>` (media elements' requests, Range
// included) from the page that owns the device session: the request goes to that page over
// a MessageChannel, the page performs it over peer-http and transfers the response body
// (a ReadableStream) back. Nothing is cached; every other URL is left to the network.
export {};
declare const self: ServiceWorkerGlobalScope;

const PREFIX = /^\/peer\/([0-9a-fA-F-]{36})(\/.*)$/;
const REPLY_TIMEOUT_MS = 30_000;

interface Reply {
  status?: number;
  statusText?: string;
  headers?: [string, string][];
  body?: ReadableStream<Uint8Array> | null;
  error?: string;
}

self.addEventListener('install', () => void self.skipWaiting());
self.addEventListener('activate', (event) => event.waitUntil(self.clients.claim()));

self.addEventListener('fetch', (event) => {
  const url = new URL(event.request.url);
  if (url.origin !== self.location.origin) return;
  const m = PREFIX.exec(url.pathname);
  if (!m) return;
  event.respondWith(relay(event, m[1] ?? '', `${m[2] ?? '/'}${url.search}`));
});

function ask(client: Client, message: unknown): Promise<Reply> {
  return new Promise((resolve) => {
    const channel = new MessageChannel();
    const timer = setTimeout(() => resolve({ error: 'the page did not answer' }), REPLY_TIMEOUT_MS);
    channel.port1.onmessage = (e: MessageEvent<Reply>) => {
      clearTimeout(timer);
      channel.port1.close();
      resolve(e.data);
    };
    client.postMessage(message, [channel.port2]);
  });
}

async function relay(event: FetchEvent, sessionId: string, path: string): Promise<Response> {
  const { request } = event;
  if (request.method !== 'GET' && request.method !== 'HEAD') {
    return new Response('method not allowed', { status: 405, headers: { allow: 'GET, HEAD' } });
  }
  const own = event.clientId ? await self.clients.get(event.clientId) : undefined;
  const clients = own ? [own] : await self.clients.matchAll({ type: 'window' });
  const message = {
    type: 'pf-peer-fetch',
    sessionId,
    path,
    method: request.method,
    headers: [...request.headers],
  };
  for (const client of clients) {
    const reply = await ask(client, message);
    if (reply.error !== undefined) {
      return new Response(reply.error, { status: 502, headers: { 'content-type': 'text/plain' } });
    }
    if (reply.status === 404 && !reply.body && clients.length > 1) continue; // not its session
    const status = reply.status ?? 502;
    const nullBody = status === 204 || status === 304 || request.method === 'HEAD';
    return new Response(nullBody ? null : (reply.body ?? null), {
      status,
      statusText: reply.statusText ?? '',
      headers: reply.headers ?? [],
    });
  }
  return new Response('no page holds this session', { status: 404 });
}
