// The agent's top-level peer-http handler for one verified session.
//
//   /_agent/info          GET|HEAD  device id, name, agent version, uptime, capabilities
//   /_agent/health        GET|HEAD  liveness
//   /_agent/clips[/name]  GET|HEAD  clips (see clips/clips.ts)
//   /_agent/<other>                 404 JSON (reserved prefix: never proxied)
//   anything else                   allow-listed reverse proxy (http/proxy.ts)
//
// Authorization comes first, from the verified session (the grant), with the shared rules
// of @peerfetch/crypto: `canPerform` (viewer: GET/HEAD only; operator/admin: every
// method) and, when the grant carries route prefixes, `authorize` (admin: any route). Every request is audited when its
// response body ends (bytes actually sent) or is cancelled.
import { type Role, authorize, canPerform } from '@peerfetch/crypto';
import type { AuditEventInput } from '../audit/audit-log.js';
import { errorResponse, jsonResponse } from './json.js';
import type { ProxyHandler } from './proxy.js';

export const RESERVED_PREFIX = '/_agent';

/** What the channel handshake established about the peer (from the verified grant). */
export interface SessionContext {
  userId: string;
  role: Role;
  deviceId: string;
  sessionId: string;
  /** Route prefixes from the grant; when absent only the role's method rule applies. */
  routes?: readonly string[] | undefined;
}

export interface AgentRouterOptions {
  clips: (request: Request) => Promise<Response>;
  proxy: ProxyHandler;
  info: () => Record<string, unknown>;
  health?: () => Record<string, unknown>;
  /** Called once per request, when the response body is done (never throws into us). */
  audit?: (event: AuditEventInput) => void;
  now?: () => number;
}

export type SessionHandler = (request: Request) => Promise<Response>;

function readOnly(request: Request, body: () => Record<string, unknown>): Response {
  if (request.method !== 'GET' && request.method !== 'HEAD') {
    return errorResponse(405, 'METHOD_NOT_ALLOWED', 'read-only route', { allow: 'GET, HEAD' });
  }
  const res = jsonResponse(body());
  return request.method === 'HEAD'
    ? new Response(null, { status: res.status, headers: res.headers })
    : res;
}

/** Wraps a body so that `done(bytes)` runs exactly once, at its end, error or cancel. */
function countBody(
  body: ReadableStream<Uint8Array>,
  done: (bytes: number) => void,
): ReadableStream<Uint8Array> {
  const reader = body.getReader();
  let bytes = 0;
  let finished = false;
  const finish = (): void => {
    if (!finished) {
      finished = true;
      done(bytes);
    }
  };
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        try {
          const { value, done: end } = await reader.read();
          if (end) {
            controller.close();
            finish();
            return;
          }
          bytes += value.byteLength;
          controller.enqueue(value);
        } catch (err) {
          finish();
          controller.error(err);
        }
      },
      async cancel(reason) {
        finish();
        await reader.cancel(reason);
      },
    },
    { highWaterMark: 0 },
  );
}

export function createAgentRouter(options: AgentRouterOptions) {
  const now = options.now ?? Date.now;

  async function route(request: Request, ctx: SessionContext, path: string): Promise<Response> {
    const allowed =
      ctx.routes !== undefined
        ? authorize({ role: ctx.role, routes: ctx.routes }, request.method, path)
        : canPerform(ctx.role, request.method);
    if (!allowed) {
      return errorResponse(403, 'FORBIDDEN', `role ${ctx.role} may not ${request.method} ${path}`);
    }
    if (path === RESERVED_PREFIX || path.startsWith(`${RESERVED_PREFIX}/`)) {
      const sub = path.slice(RESERVED_PREFIX.length);
      if (sub === '/info') return readOnly(request, options.info);
      if (sub === '/health') return readOnly(request, options.health ?? (() => ({ status: 'ok' })));
      if (sub === '/clips' || sub.startsWith('/clips/')) return options.clips(request);
      return errorResponse(404, 'NOT_FOUND', 'no such agent route');
    }
    return options.proxy(request, { userId: ctx.userId, role: ctx.role, sessionId: ctx.sessionId });
  }

  /** Handler for one session: plug into `servePeerHttp(transport, handle(ctx))`. */
  return function handle(ctx: SessionContext): SessionHandler {
    return async (request) => {
      const started = now();
      const path = new URL(request.url).pathname;
      let response: Response;
      try {
        response = await route(request, ctx, path);
      } catch (err) {
        if (request.signal.aborted) throw err;
        response = errorResponse(500, 'INTERNAL', 'internal error');
      }
      const audit = options.audit;
      if (!audit) return response;
      const record = (bytes: number): void => {
        try {
          audit({
            ts: started,
            sessionId: ctx.sessionId,
            user: ctx.userId,
            role: ctx.role,
            method: request.method,
            path,
            status: response.status,
            bytes,
            durationMs: Math.max(0, now() - started),
          });
        } catch {
          // auditing must never break a response
        }
      };
      if (response.body === null) {
        record(0);
        return response;
      }
      return new Response(countBody(response.body, record), {
        status: response.status,
        statusText: response.statusText,
        headers: response.headers,
      });
    };
  };
}
