// Media over peer-http: `<video src="/peer/<sessionId>/<path>">` requests are answered by
// the service worker (src/sw/peer-sw.ts), which asks this page, over a MessageChannel, to
// perform them on the session's DataChannel. The response body travels back as a
// transferred ReadableStream, so playback starts with the first bytes and Range/206
// answers (seeking) pass through unchanged.
import type { PeerMediaHandler } from './types.js';

export const PEER_MEDIA_PREFIX = '/peer/';
export const PEER_FETCH_MESSAGE = 'pf-peer-fetch';

/** Forwarded request headers (the rest stay in the browser). */
const FORWARDED = new Set(['range', 'if-range', 'accept']);

interface PeerFetchMessage {
  type: typeof PEER_FETCH_MESSAGE;
  sessionId: string;
  path: string;
  method: 'GET' | 'HEAD';
  headers: [string, string][];
}

function isPeerFetch(data: unknown): data is PeerFetchMessage {
  const m = data as Partial<PeerFetchMessage> | null;
  return (
    typeof m === 'object' &&
    m !== null &&
    m.type === PEER_FETCH_MESSAGE &&
    typeof m.sessionId === 'string' &&
    typeof m.path === 'string' &&
    m.path.startsWith('/') &&
    (m.method === 'GET' || m.method === 'HEAD') &&
    Array.isArray(m.headers)
  );
}

export async function registerPeerMedia(handler: PeerMediaHandler): Promise<boolean> {
  const sw = window.navigator.serviceWorker as ServiceWorkerContainer | undefined;
  if (!sw) return false;
  sw.addEventListener('message', (event: MessageEvent) => {
    const port = event.ports[0];
    if (!port || !isPeerFetch(event.data)) return;
    const { sessionId, path, method } = event.data;
    const headers = event.data.headers.filter(
      (h): h is [string, string] =>
        Array.isArray(h) && typeof h[1] === 'string' && FORWARDED.has(String(h[0]).toLowerCase()),
    );
    void (async () => {
      try {
        const res = await handler({ sessionId, path, method, headers });
        if (!res) {
          port.postMessage({ status: 404, headers: [], body: null });
          return;
        }
        const body = method === 'HEAD' ? null : res.body;
        port.postMessage(
          { status: res.status, statusText: res.statusText, headers: [...res.headers], body },
          body ? [body] : [],
        );
      } catch (error) {
        port.postMessage({ error: error instanceof Error ? error.message : String(error) });
      }
    })();
  });
  sw.startMessages();
  // By mode, not by DEV: DEV follows NODE_ENV, so a `vite build` run with NODE_ENV=test or
  // development (a test runner's child, a developer's shell) would register the dev path
  // and the built console could not play anything. `vite build` is mode production.
  const url = import.meta.env.MODE === 'development' ? '/src/sw/peer-sw.ts' : '/peer-sw.js';
  // Scope `/`: a service worker only sees requests of the pages it controls, and the media
  // element lives in the console's pages; the worker answers `/peer/…` and nothing else.
  await sw.register(url, { scope: '/', type: 'module' });
  await sw.ready;
  if (!sw.controller) {
    await new Promise<void>((resolve) =>
      sw.addEventListener('controllerchange', () => resolve(), { once: true }),
    );
  }
  return true;
}
