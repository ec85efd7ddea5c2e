/**
 * A peer-http handler that forwards requests to allow-listed HTTP origins (the device's
 * local REST API, a clip server), streaming both ways. Node only (global fetch/undici).
 *
 * The upstream origin comes from the `x-peerfetch-upstream` request header, or the
 * configured default (the only origin when the list has one). It must equal an allowed
 * origin exactly (scheme, host and port); anything else gets 403 with a JSON error.
 */
import type { PeerHttpHandler } from '../session.js';
import { HOP_BY_HOP } from '../session.js';

/** Request header naming the upstream origin. */
export const UPSTREAM_HEADER = 'x-peerfetch-upstream';

export interface UpstreamProxyOptions {
  /** Allowed origins, e.g. `http://127.0.0.1:8080`. */
  origins: readonly string[];
  /** Origin used when the request names none (default: the only allowed origin, if one). */
  defaultOrigin?: string;
  /** The fetch to use (default: global fetch). */
  fetch?: typeof fetch;
  /** Told about upstream failures (the peer gets a bare 502). */
  onError?: (error: unknown) => void;
}

function parseOrigin(value: string): string | undefined {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return undefined;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return undefined;
  if (
    url.username ||
    url.password ||
    url.search ||
    url.hash ||
    (url.pathname !== '/' && url.pathname !== '')
  ) {
    return undefined;
  }
  return url.origin;
}

function jsonError(status: number, error: string, detail?: Record<string, string>): Response {
  return Response.json({ error, ...detail }, { status });
}

/** Fields never forwarded, besides the hop-by-hop ones and those named in `connection`. */
const STRIPPED_REQUEST = new Set(['host', UPSTREAM_HEADER, 'content-length']);

function forwardHeaders(source: Headers, stripped: Set<string>): Headers {
  const listed = new Set(
    (source.get('connection') ?? '')
      .split(',')
      .map((s) => s.trim().toLowerCase())
      .filter(Boolean),
  );
  const out = new Headers();
  source.forEach((value, name) => {
    if (HOP_BY_HOP.has(name) || stripped.has(name) || listed.has(name) || name === 'set-cookie')
      return;
    out.append(name, value);
  });
  if (!stripped.has('set-cookie'))
    for (const cookie of source.getSetCookie()) out.append('set-cookie', cookie);
  return out;
}

/** A handler that proxies to the allow-listed `origins`, streaming request and response bodies. */
export function createUpstreamProxy(options: UpstreamProxyOptions): PeerHttpHandler {
  const allowed = new Set<string>();
  for (const origin of options.origins) {
    const parsed = parseOrigin(origin);
    if (!parsed) throw new TypeError(`createUpstreamProxy: not an http(s) origin: ${origin}`);
    allowed.add(parsed);
  }
  const fallback =
    options.defaultOrigin !== undefined
      ? parseOrigin(options.defaultOrigin)
      : allowed.size === 1
        ? [...allowed][0]
        : undefined;
  if (options.defaultOrigin !== undefined && (!fallback || !allowed.has(fallback))) {
    throw new TypeError('createUpstreamProxy: defaultOrigin must be one of origins');
  }
  const doFetch = options.fetch ?? fetch;

  return async (request) => {
    const named = request.headers.get(UPSTREAM_HEADER);
    const origin = named === null ? fallback : parseOrigin(named);
    if (origin === undefined) {
      return jsonError(
        named === null ? 400 : 403,
        named === null ? 'no upstream origin' : 'origin not allowed',
        {
          ...(named === null ? {} : { origin: named }),
        },
      );
    }
    if (!allowed.has(origin)) return jsonError(403, 'origin not allowed', { origin });

    const url = new URL(request.url);
    const target = origin + url.pathname + url.search;
    const headers = forwardHeaders(request.headers, STRIPPED_REQUEST);
    const hasBody = request.method !== 'GET' && request.method !== 'HEAD' && request.body !== null;
    let upstream: Response;
    try {
      upstream = await doFetch(target, {
        method: request.method,
        headers,
        redirect: 'manual',
        signal: request.signal,
        ...(hasBody ? { body: request.body, duplex: 'half' } : {}),
      });
    } catch (error) {
      if (request.signal.aborted) throw error;
      options.onError?.(error);
      return jsonError(502, 'upstream unreachable');
    }
    // fetch decodes content-encoding itself: the body we pass on is identity-encoded
    const decoded = upstream.headers.has('content-encoding');
    const responseHeaders = forwardHeaders(
      upstream.headers,
      new Set(decoded ? ['content-encoding', 'content-length'] : []),
    );
    return new Response(upstream.body, { status: upstream.status, headers: responseHeaders });
  };
}
