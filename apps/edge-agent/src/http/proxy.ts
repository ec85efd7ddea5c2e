// The agent's allow-listed reverse proxy: a thin policy layer over `createUpstreamProxy`
// from @peerfetch/peer-http/node (which does the forwarding: streaming both ways with
// `duplex: 'half'`, hop-by-hop stripping, `redirect: 'manual'`, decoded-body headers).
//
// What this layer adds (agent policy):
// - upstream selection checked here first, with the agent's error contract:
//   403 `{error:{code:'UPSTREAM_NOT_ALLOWED',message}}`. peer-http carries only path +
//   query (PROTOCOL.md §5.1), so the upstream is the `x-peerfetch-upstream` header (must
//   equal an allow-listed origin after normalization: scheme + host + port, literally;
//   `localhost` ≠ `127.0.0.1`; no DNS involved, so DNS rebinding cannot widen the list) or
//   the default origin (config `defaultUpstream`, or the only configured origin);
// - the verified identity for the upstream: `x-peerfetch-user`, `-role`, `-session` set by
//   the agent; any `x-peerfetch-*` header the client sent is dropped (no spoofing);
// - `accept-encoding: identity` upstream, so Range/ETag semantics stay byte-exact;
// - 502 `{error:{code:'UPSTREAM_UNREACHABLE'}}` when the upstream does not answer.
import { createUpstreamProxy as createPeerHttpProxy } from '@peerfetch/peer-http/node';
import { normalizeOrigin } from '../config.js';
import { errorResponse } from './json.js';

export const UPSTREAM_HEADER = 'x-peerfetch-upstream';

export interface ProxyIdentity {
  userId: string;
  role: string;
  sessionId: string;
}

export interface UpstreamProxyOptions {
  /** Allow-listed origins (normalized here with `normalizeOrigin`). */
  origins: readonly string[];
  defaultOrigin?: string | undefined;
  /** Upstream fetch (tests); defaults to the global fetch. */
  fetch?: typeof fetch;
}

export type ProxyHandler = (request: Request, identity?: ProxyIdentity) => Promise<Response>;

/** Also stripped here: proxy credentials are for this hop (peer-http's HOP_BY_HOP lacks them). */
const AGENT_STRIPPED = new Set(['accept-encoding', 'proxy-authorization', 'proxy-authenticate']);

function notAllowed(message: string): Response {
  return errorResponse(403, 'UPSTREAM_NOT_ALLOWED', message);
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
  const failed = new WeakSet<Request>();
  const inner =
    origins.size > 0
      ? createPeerHttpProxy({
          origins: [...origins],
          ...(options.fetch ? { fetch: options.fetch } : {}),
        })
      : undefined;

  return async (request, identity) => {
    let origin: string | undefined;
    const selected = request.headers.get(UPSTREAM_HEADER);
    if (selected !== null) {
      try {
        origin = normalizeOrigin(selected.trim());
      } catch {
        return notAllowed('the requested upstream is not an allow-listed origin');
      }
      if (!origins.has(origin)) {
        return notAllowed('the requested upstream is not an allow-listed origin');
      }
    } else {
      origin = defaultOrigin;
    }
    if (origin === undefined || inner === undefined) {
      return notAllowed('no upstream origin is configured for this path');
    }

    const headers = new Headers();
    request.headers.forEach((value, name) => {
      if (!name.startsWith('x-peerfetch-') && !AGENT_STRIPPED.has(name)) {
        headers.append(name, value);
      }
    });
    headers.set(UPSTREAM_HEADER, origin);
    headers.set('accept-encoding', 'identity');
    if (identity) {
      headers.set('x-peerfetch-user', identity.userId);
      headers.set('x-peerfetch-role', identity.role);
      headers.set('x-peerfetch-session', identity.sessionId);
    }
    const hasBody = request.body !== null && request.method !== 'GET' && request.method !== 'HEAD';
    const forwarded = new Request(request.url, {
      method: request.method,
      headers,
      signal: request.signal,
      redirect: 'manual',
      ...(hasBody ? { body: request.body, duplex: 'half' } : {}),
    });

    let response: Response;
    try {
      response = await createPeerHttpProxyCall(inner, forwarded, () => failed.add(forwarded));
    } catch (err) {
      if (request.signal.aborted) throw err;
      return errorResponse(502, 'UPSTREAM_UNREACHABLE', 'the upstream did not answer');
    }
    if (failed.has(forwarded)) {
      await response.body?.cancel().catch(() => undefined);
      return errorResponse(502, 'UPSTREAM_UNREACHABLE', 'the upstream did not answer');
    }
    if (request.method === 'HEAD' || [204, 205, 304].includes(response.status)) {
      await response.body?.cancel().catch(() => undefined);
      return new Response(null, { status: response.status, headers: response.headers });
    }
    return response;
  };
}

type InnerProxy = ReturnType<typeof createPeerHttpProxy>;

// The inner proxy answers an unreachable upstream with a bare 502
// `{"error":"upstream unreachable"}`; it is recognised here and re-shaped to the agent's
// error contract. (Its `onError` hook is per proxy, not per request.)
function createPeerHttpProxyCall(
  inner: InnerProxy,
  request: Request,
  onFailure: () => void,
): Promise<Response> {
  return Promise.resolve(inner(request)).then((res) => {
    if (res.status === 502 && res.headers.get('content-type')?.startsWith('application/json')) {
      return res
        .clone()
        .json()
        .then((body: unknown) => {
          if ((body as { error?: unknown } | null)?.error === 'upstream unreachable') onFailure();
          return res;
        })
        .catch(() => res);
    }
    return res;
  });
}
