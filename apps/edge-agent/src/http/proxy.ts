// Allow-listed reverse proxy to local upstream origins (never an open proxy).
//
// peer-http carries only the origin-form target (path + query, PROTOCOL.md §5.1): the
// request's own URL origin is just the server's configured base and is ignored here. The
// upstream is chosen as:
//   1. the `x-peerfetch-upstream` request header, if present: it must equal one of the
//      configured origins after the same normalization (scheme + host + port, literally:
//      `http://localhost:8778` does not match a configured `http://127.0.0.1:8778`, and no
//      DNS resolution is involved, so DNS rebinding cannot widen the list);
//   2. otherwise the default origin (config `defaultUpstream`, or the only configured one).
// Anything else is 403 `{error:{code:'UPSTREAM_NOT_ALLOWED'}}`.
//
// The upstream URL is built from the configured origin string + the request's path and
// query, so nothing from the request can change scheme, host or port. Bodies stream both
// ways (undici fetch, `duplex: 'half'`); Range and conditional headers pass through;
// hop-by-hop headers (and those named in `Connection`) are stripped both ways; redirects are
// never followed (`redirect: 'manual'`: the 3xx goes back to the client as is);
// `accept-encoding: identity` upstream, because undici would otherwise decode the body while
// keeping `content-encoding`. Identity headers set by the agent (`x-peerfetch-user`,
// `-role`, `-session`) replace any the client sent.
import { normalizeOrigin } from '../config.js';
import { errorResponse } from './json.js';

export const UPSTREAM_HEADER = 'x-peerfetch-upstream';

const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'host',
]);

export interface ProxyIdentity {
  userId: string;
  role: string;
  sessionId: string;
}

export interface UpstreamProxyOptions {
  /** Normalized allow-listed origins (`normalizeOrigin`). */
  origins: readonly string[];
  defaultOrigin?: string | undefined;
  /** Upstream fetch (tests); defaults to the global fetch. */
  fetch?: typeof fetch;
}

export type ProxyHandler = (request: Request, identity?: ProxyIdentity) => Promise<Response>;

function notAllowed(message: string): Response {
  return errorResponse(403, 'UPSTREAM_NOT_ALLOWED', message);
}

function copyHeaders(from: Headers, extraDrop: (name: string) => boolean): Headers {
  const named = (from.get('connection') ?? '')
    .split(',')
    .map((s) => s.trim().toLowerCase())
    .filter((s) => s !== '');
  const out = new Headers();
  from.forEach((value, name) => {
    if (HOP_BY_HOP.has(name) || named.includes(name) || extraDrop(name)) return;
    out.append(name, value);
  });
  if (typeof from.getSetCookie === 'function') {
    out.delete('set-cookie');
    for (const c of from.getSetCookie()) out.append('set-cookie', c);
  }
  return out;
}

export function createUpstreamProxy(options: UpstreamProxyOptions): ProxyHandler {
  const origins = new Set(options.origins.map((o) => normalizeOrigin(o)));
  const defaultOrigin =
    options.defaultOrigin !== undefined
      ? normalizeOrigin(options.defaultOrigin)
      : origins.size === 1
        ? [...origins][0]
        : undefined;
  if (defaultOrigin !== undefined && !origins.has(defaultOrigin)) {
    throw new Error('defaultOrigin must be one of origins');
  }
  const upstreamFetch = options.fetch ?? fetch;

  return async (request, identity) => {
    let origin: string | undefined;
    const selected = request.headers.get(UPSTREAM_HEADER);
    if (selected !== null) {
      let normalized: string;
      try {
        normalized = normalizeOrigin(selected.trim());
      } catch {
        return notAllowed('the requested upstream is not an allow-listed origin');
      }
      if (!origins.has(normalized)) {
        return notAllowed('the requested upstream is not an allow-listed origin');
      }
      origin = normalized;
    } else {
      origin = defaultOrigin;
    }
    if (origin === undefined) return notAllowed('no upstream origin is configured for this path');

    const incoming = new URL(request.url);
    const target = new URL(`${origin}${incoming.pathname}${incoming.search}`);
    if (target.origin !== origin) return notAllowed('target escapes the upstream origin');

    const headers = copyHeaders(
      request.headers,
      (n) => n === UPSTREAM_HEADER || n.startsWith('x-peerfetch-') || n === 'accept-encoding',
    );
    headers.set('accept-encoding', 'identity');
    if (identity) {
      headers.set('x-peerfetch-user', identity.userId);
      headers.set('x-peerfetch-role', identity.role);
      headers.set('x-peerfetch-session', identity.sessionId);
    }
    const hasBody = request.body !== null && request.method !== 'GET' && request.method !== 'HEAD';
    const init: RequestInit & { duplex?: 'half' } = {
      method: request.method,
      headers,
      redirect: 'manual',
      signal: request.signal,
      ...(hasBody ? { body: request.body, duplex: 'half' } : {}),
    };
    let upstream: Response;
    try {
      upstream = await upstreamFetch(target, init);
    } catch (err) {
      if (request.signal.aborted) throw err;
      return errorResponse(502, 'UPSTREAM_UNREACHABLE', 'the upstream did not answer');
    }
    const out = copyHeaders(upstream.headers, () => false);
    const nullBody =
      request.method === 'HEAD' ||
      [204, 205, 304].includes(upstream.status) ||
      upstream.body === null;
    if (nullBody) await upstream.body?.cancel().catch(() => undefined);
    return new Response(nullBody ? null : upstream.body, {
      status: upstream.status,
      statusText: upstream.statusText,
      headers: out,
    });
  };
}
