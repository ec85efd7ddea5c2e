import { describe, expect, it, vi } from 'vitest';
import { createTestPlatform } from '../platform/testing.js';
import { DEMO_IDS, FakeRegistrar } from '../testing/fake-registrar.js';
import { ApiClient, ApiError } from './api.js';

const NOW = 1_750_000_000_000;
const I = DEMO_IDS;

function client(handler?: (r: Request) => Response | Promise<Response>) {
  const registrar = FakeRegistrar.demo(NOW);
  const platform = createTestPlatform(handler ?? registrar.handle);
  return { api: new ApiClient(platform.http), platform, registrar };
}

const jsonResponse = (body: unknown, status = 200) =>
  new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });

describe('ApiClient', () => {
  it('signs in, reads the session, signs out', async () => {
    const { api, platform } = client();
    expect(await api.me()).toBeNull();
    const me = await api.login('ada@example.com', 'correct horse');
    expect(me).toEqual({
      user: { id: I.ada, email: 'ada@example.com', name: 'Ada Lovelace' },
      orgId: I.acme,
      role: 'owner',
      memberships: [
        { orgId: I.acme, orgName: 'Acme Cameras', role: 'owner' },
        { orgId: I.lab, orgName: 'Home lab', role: 'admin' },
      ],
    });
    expect(me).not.toHaveProperty('token');
    expect((await api.me())?.orgId).toBe(I.acme);
    await api.logout();
    expect(await api.me()).toBeNull();
    const login = platform.requests.find((r) => r.url.endsWith('/api/auth/login'));
    expect(login?.method).toBe('POST');
    expect(login?.headers.get('content-type')).toBe('application/json');
    expect(await login?.json()).toEqual({ email: 'ada@example.com', password: 'correct horse' });
  });

  it('signs in to a chosen organisation', async () => {
    const { api, platform } = client();
    const me = await api.login('ada@example.com', 'correct horse', I.lab);
    expect(me.orgId).toBe(I.lab);
    expect(me.role).toBe('admin');
    expect(await platform.requests.at(-1)?.json()).toMatchObject({ orgId: I.lab });
  });

  it('turns a failed login into an ApiError without firing onUnauthorized', async () => {
    const { api } = client();
    const onUnauthorized = vi.fn();
    api.onUnauthorized = onUnauthorized;
    const error = await api.login('ada@example.com', 'nope').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect(error).toMatchObject({
      status: 401,
      code: 'INVALID_CREDENTIALS',
      correlationId: 'fake-correlation-id',
    });
    expect(onUnauthorized).not.toHaveBeenCalled();
  });

  it('fires onUnauthorized on a 401 from an authenticated call', async () => {
    const { api } = client();
    const onUnauthorized = vi.fn();
    api.onUnauthorized = onUnauthorized;
    await expect(api.listDevices()).rejects.toMatchObject({ status: 401 });
    expect(onUnauthorized).toHaveBeenCalledTimes(1);
    expect(onUnauthorized.mock.calls[0]?.[0]).toBeInstanceOf(ApiError);
  });

  it('encodes path segments and query parameters, ISO dates for the audit range', async () => {
    const { api, platform, registrar } = client();
    registrar.signIn(I.ada);
    await expect(api.getDevice('../x y')).rejects.toMatchObject({ status: 400 });
    expect(platform.requests.at(-1)?.url).toBe('https://registrar.test/api/devices/..%2Fx%20y');
    await api.queryAudit({ action: 'auth.login', limit: 5, targetId: undefined, since: 0 });
    expect(platform.requests.at(-1)?.url).toBe(
      'https://registrar.test/api/audit?action=auth.login&limit=5&since=1970-01-01T00%3A00%3A00.000Z',
    );
    await api.listDevices({ tag: 'camera', status: 'online', limit: 500 });
    expect(platform.requests.at(-1)?.url).toBe(
      'https://registrar.test/api/devices?tag=camera&status=online&limit=500',
    );
  });

  it('decodes devices: ISO times to ms, keyFingerprint to fingerprint', async () => {
    const { api, registrar } = client();
    registrar.signIn(I.ada);
    const page = await api.listDevices();
    expect(page.total).toBe(5);
    const gate = page.items.find((d) => d.id === I.gate);
    expect(gate).toMatchObject({
      name: 'gate-camera',
      status: 'online',
      lastSeenAt: NOW - 4_000,
      createdAt: NOW - 30 * 86_400_000,
      revokedAt: null,
      agentVersion: '0.1.0',
    });
    expect(gate?.fingerprint).toMatch(/^[\w-]{43}$/);
    expect(gate?.health).toMatchObject({ ts: NOW - 4_000, load1: 0.42, sessions: 1 });
    expect(page.items.find((d) => d.id === I.kiosk)?.health).toBeNull();
  });

  it('covers device, claim-code, grant and user calls against the fake registrar', async () => {
    const { api, registrar, platform } = client();
    registrar.signIn(I.ada);
    expect((await api.renameDevice(I.gate, 'front gate')).name).toBe('front gate');
    expect((await api.setDeviceTags(I.gate, ['b', 'a'])).tags).toEqual(['b', 'a']);
    expect(platform.requests.at(-1)?.method).toBe('PUT');
    const revoked = await api.revokeDevice(I.gate, 'stolen');
    expect(revoked).toMatchObject({ status: 'revoked', revokedAt: NOW });
    expect(await platform.requests.at(-1)?.json()).toEqual({ reason: 'stolen' });
    await api.deleteDevice(I.gate);
    expect((await api.listDevices()).total).toBe(4);

    const code = await api.createClaimCode({ ttlHours: 2, tags: ['x'], label: 'cam-9' });
    expect(code).toMatchObject({ state: 'active', label: 'cam-9', expiresAt: NOW + 7_200_000 });
    expect(code.code).toMatch(/^PFC-/);
    const listed = await api.listClaimCodes();
    expect(listed.find((c) => c.id === code.id)).not.toHaveProperty('code');
    expect((await api.revokeClaimCode(code.id)).state).toBe('revoked');

    const grant = await api.createGrant({
      subject: { kind: 'user', userId: I.bob },
      target: { kind: 'device', deviceId: I.dock },
      role: 'operator',
    });
    expect(await platform.requests.at(-1)?.json()).toEqual({
      userId: I.bob,
      deviceId: I.dock,
      role: 'operator',
    });
    expect(grant).toMatchObject({
      subject: { kind: 'user', userId: I.bob },
      target: { kind: 'device', deviceId: I.dock },
      role: 'operator',
      createdBy: I.ada,
    });
    expect(await api.listGrants({ deviceId: I.dock })).toEqual([grant]);
    expect((await api.updateGrantRole(grant.id, 'viewer')).role).toBe('viewer');
    await api.deleteGrant(grant.id);
    expect(await api.listGrants({ deviceId: I.dock })).toEqual([]);

    const user = await api.createUser({
      email: 'eve@example.com',
      name: 'Eve',
      password: 'a long enough password',
      role: 'member',
    });
    expect(user).toMatchObject({ email: 'eve@example.com', role: 'member', createdAt: NOW });
    expect((await api.listUsers()).map((u) => u.email)).toEqual([
      'ada@example.com',
      'bob@example.com',
      'eve@example.com',
    ]);
  });

  it('reads registrar error bodies: code, message list, correlation id', async () => {
    const { api } = client(() =>
      jsonResponse(
        {
          statusCode: 400,
          message: ['name must be short', 'tags must be an array'],
          error: 'Bad Request',
          correlationId: 'c-1',
        },
        400,
      ),
    );
    await expect(api.renameDevice('d', 'x')).rejects.toMatchObject({
      status: 400,
      code: 'BAD_REQUEST',
      message: 'name must be short; tags must be an array',
      correlationId: 'c-1',
    });
  });

  it('reports a non-JSON error body by its status', async () => {
    const { api } = client(
      () => new Response('<html>oops', { status: 502, statusText: 'Bad Gateway' }),
    );
    await expect(api.listUsers()).rejects.toMatchObject({
      status: 502,
      code: 'HTTP_502',
      message: 'Bad Gateway',
    });
  });

  it('reports an unreachable registrar as status 0 NETWORK', async () => {
    const { api } = client(() => Promise.reject(new TypeError('fetch failed')));
    const error = await api.listUsers().catch((e: unknown) => e);
    expect(error).toMatchObject({ status: 0, code: 'NETWORK' });
    expect((error as { cause?: unknown }).cause).toBeInstanceOf(TypeError);
  });

  it('rejects an unreadable or mis-shaped success body', async () => {
    await expect(client(() => new Response('not json')).api.listUsers()).rejects.toMatchObject({
      code: 'BAD_RESPONSE',
    });
    const wrong = client(() => jsonResponse([{ id: 'u', email: 'e', name: 'n', role: 'root' }]));
    await expect(wrong.api.listUsers()).rejects.toMatchObject({
      code: 'BAD_RESPONSE',
      message: expect.stringContaining('users[0].role') as unknown,
    });
    const badTime = client(() => jsonResponse({ items: [], nextCursor: 7 }));
    await expect(badTime.api.queryAudit()).rejects.toMatchObject({ code: 'BAD_RESPONSE' });
  });

  it('requests a session ticket', async () => {
    const { api, platform } = client(() =>
      jsonResponse({ sessionId: 's1', grant: 'a.b.c', iceServers: [{ urls: 'stun:x' }] }, 201),
    );
    const ticket = await api.requestSession({ deviceId: 'd1', sessionKey: { kty: 'OKP' } });
    expect(ticket).toEqual({ sessionId: 's1', grant: 'a.b.c', iceServers: [{ urls: 'stun:x' }] });
    expect(await platform.requests[0]?.json()).toEqual({
      deviceId: 'd1',
      sessionKey: { kty: 'OKP' },
    });
  });
});
