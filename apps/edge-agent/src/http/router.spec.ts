import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { AuditEventInput } from '../audit/audit-log.js';
import { createClipsHandler } from '../clips/clips.js';
import type { ProxyIdentity } from './proxy.js';
import { createAgentRouter, type SessionContext } from './router.js';

const proxied: { method: string; path: string; identity?: ProxyIdentity | undefined }[] = [];
const audits: AuditEventInput[] = [];
let handle: ReturnType<typeof createAgentRouter>;

beforeAll(() => {
  const clipsDir = mkdtempSync(join(tmpdir(), 'agent-router-'));
  writeFileSync(join(clipsDir, 'a.mp4'), Buffer.alloc(1000, 1));
  handle = createAgentRouter({
    clips: createClipsHandler({ clipsDir }),
    proxy: (request, identity) => {
      proxied.push({ method: request.method, path: new URL(request.url).pathname, identity });
      return Promise.resolve(new Response('from upstream'));
    },
    info: () => ({ deviceId: 'd-1', agentVersion: '0.1.0' }),
    audit: (e) => audits.push(e),
  });
});

const ctx = (
  role: SessionContext['role'],
  extra: Partial<SessionContext> = {},
): SessionContext => ({
  userId: `user-${role}`,
  role,
  deviceId: 'd-1',
  sessionId: `s-${role}`,
  ...extra,
});
const req = (path: string, method = 'GET'): Request =>
  new Request(`http://peer.invalid${path}`, {
    method,
    ...(method === 'POST' || method === 'PUT' ? { body: 'x' } : {}),
  });

describe('agent router', () => {
  it('serves info, health and clips under the reserved prefix', async () => {
    const h = handle(ctx('viewer'));
    const info = await h(req('/_agent/info'));
    expect(await info.json()).toEqual({ deviceId: 'd-1', agentVersion: '0.1.0' });
    expect(await (await h(req('/_agent/health'))).json()).toEqual({ status: 'ok' });
    const clip = await h(req('/_agent/clips/a.mp4'));
    expect(clip.status).toBe(200);
    expect((await clip.arrayBuffer()).byteLength).toBe(1000);
    const list = await h(req('/_agent/clips'));
    expect(((await list.json()) as { clips: unknown[] }).clips).toHaveLength(1);
  });

  it('404 JSON for unknown reserved routes (never proxied)', async () => {
    const before = proxied.length;
    for (const p of ['/_agent', '/_agent/', '/_agent/nope', '/_agent/info/x', '/_agent/clipsx']) {
      const res = await handle(ctx('admin'))(req(p));
      expect(res.status, p).toBe(404);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe('NOT_FOUND');
    }
    expect(proxied.length).toBe(before);
  });

  it('viewer: GET/HEAD only; operator and admin: every method', async () => {
    for (const method of ['POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS']) {
      const res = await handle(ctx('viewer'))(req('/api/thing', method));
      expect(res.status, method).toBe(403);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe('FORBIDDEN');
    }
    expect((await handle(ctx('viewer'))(req('/api/thing', 'HEAD'))).status).toBe(200);
    for (const role of ['operator', 'admin'] as const) {
      for (const method of ['GET', 'POST', 'PUT', 'DELETE', 'PATCH']) {
        const res = await handle(ctx(role))(req('/api/thing', method));
        expect(res.status, `${role} ${method}`).toBe(200);
        await res.text();
      }
    }
    expect(proxied.at(-1)).toMatchObject({
      method: 'PATCH',
      path: '/api/thing',
      identity: { userId: 'user-admin', role: 'admin', sessionId: 's-admin' },
    });
    // a viewer cannot reach read-only agent routes with a write method either
    expect((await handle(ctx('viewer'))(req('/_agent/clips/a.mp4', 'DELETE'))).status).toBe(403);
    // operator gets past the role check but clips stay read-only
    expect((await handle(ctx('operator'))(req('/_agent/clips/a.mp4', 'DELETE'))).status).toBe(405);
  });

  it('applies grant route prefixes when present', async () => {
    const h = handle(ctx('operator', { routes: ['/api'] }));
    expect((await h(req('/api/x', 'POST'))).status).toBe(200);
    expect((await h(req('/_agent/clips'))).status).toBe(403);
    expect((await h(req('/other'))).status).toBe(403);
  });

  it('audits who, what, status and the bytes actually sent', async () => {
    audits.length = 0;
    const res = await handle(ctx('viewer'))(req('/_agent/clips/a.mp4?t=1'));
    expect(audits).toHaveLength(0); // not before the body is done
    await res.arrayBuffer();
    expect(audits).toEqual([
      expect.objectContaining({
        user: 'user-viewer',
        sessionId: 's-viewer',
        role: 'viewer',
        method: 'GET',
        path: '/_agent/clips/a.mp4',
        status: 200,
        bytes: 1000,
      }),
    ]);
    await (await handle(ctx('viewer'))(req('/api', 'POST'))).text();
    expect(audits.at(-1)).toMatchObject({ method: 'POST', status: 403 });
    const cancelled = await handle(ctx('viewer'))(req('/_agent/clips/a.mp4'));
    await cancelled.body?.cancel();
    expect(audits.at(-1)).toMatchObject({ status: 200, path: '/_agent/clips/a.mp4' });
  });

  it('turns a throwing handler into a 500 without details', async () => {
    const h = createAgentRouter({
      clips: () => Promise.reject(new Error('disk on fire /secret/path')),
      proxy: () => Promise.resolve(new Response('')),
      info: () => ({}),
    })(ctx('admin'));
    const res = await h(req('/_agent/clips'));
    expect(res.status).toBe(500);
    expect(await res.text()).not.toContain('secret');
  });
});
