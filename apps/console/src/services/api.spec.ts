import { describe, expect, it, vi } from 'vitest';
import { createTestPlatform } from '../platform/testing.js';
import { FakeRegistrar } from '../testing/fake-registrar.js';
import { ApiClient, ApiError } from './api.js';

const NOW = 1_750_000_000_000;

function client(handler?: (r: Request) => Response | Promise<Response>) {
  const registrar = FakeRegistrar.demo(NOW);
  const platform = createTestPlatform(handler ?? registrar.handle);
  return { api: new ApiClient(platform.http), platform, registrar };
}

describe('ApiClient', () => {
  it('signs in, reads the session, signs out', async () => {
    const { api, platform } = client();
    expect(await api.me()).toBeNull();
    const me = await api.login('ada@example.com', 'correct horse');
    expect(me.user.email).toBe('ada@example.com');
    expect(me.memberships.map((m) => m.orgId)).toEqual(['org-acme', 'org-lab']);
    expect((await api.me())?.user.id).toBe('u-ada');
    await api.logout();
    expect(await api.me()).toBeNull();
    const login = platform.requests.find((r) => r.url.endsWith('/api/auth/login'));
    expect(login?.method).toBe('POST');
    expect(login?.headers.get('content-type')).toBe('application/json');
    expect(await login?.json()).toEqual({ email: 'ada@example.com', password: 'correct horse' });
  });

  it('turns a failed login into an ApiError without firing onUnauthorized', async () => {
    const { api } = client();
    const onUnauthorized = vi.fn();
    api.onUnauthorized = onUnauthorized;
    const error = await api.login('ada@example.com', 'nope').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect(error).toMatchObject({ status: 401, code: 'INVALID_CREDENTIALS' });
    expect(onUnauthorized).not.toHaveBeenCalled();
  });

  it('fires onUnauthorized on a 401 from an authenticated call', async () => {
    const { api } = client();
    const onUnauthorized = vi.fn();
    api.onUnauthorized = onUnauthorized;
    await expect(api.listDevices('org-acme')).rejects.toMatchObject({ status: 401 });
    expect(onUnauthorized).toHaveBeenCalledTimes(1);
    expect(onUnauthorized.mock.calls[0]?.[0]).toBeInstanceOf(ApiError);
  });

  it('encodes path segments and query parameters', async () => {
    const { api, platform, registrar } = client();
    registrar.signedInUserId = 'u-ada';
    await expect(api.getDevice('org-acme', '../x y')).rejects.toMatchObject({ status: 404 });
    expect(platform.requests.at(-1)?.url).toBe(
      'https://registrar.test/api/orgs/org-acme/devices/..%2Fx%20y',
    );
    await api.queryAudit('org-acme', { action: 'auth', limit: 5, deviceId: undefined });
    expect(platform.requests.at(-1)?.url).toBe(
      'https://registrar.test/api/orgs/org-acme/audit?action=auth&limit=5',
    );
  });

  it('covers device, claim-code, grant and invite calls against the fake registrar', async () => {
    const { api, registrar } = client();
    registrar.signedInUserId = 'u-ada';
    const devices = await api.listDevices('org-acme');
    expect(devices).toHaveLength(5);
    const id = devices[0]?.id ?? '';
    expect((await api.renameDevice('org-acme', id, 'front-gate')).name).toBe('front-gate');
    expect((await api.setDeviceTags('org-acme', id, ['b', 'a'])).tags).toEqual(['a', 'b']);
    expect((await api.revokeDevice('org-acme', id)).revokedAt).toBe(NOW);
    await api.deleteDevice('org-acme', id);
    expect(await api.listDevices('org-acme')).toHaveLength(4);

    const code = await api.createClaimCode('org-acme', { expiresInSeconds: 3600, tags: ['x'] });
    expect(code.code).toMatch(/^PFC-/);
    expect(code.expiresAt).toBe(NOW + 3_600_000);
    const listed = await api.listClaimCodes('org-acme');
    expect(listed.find((c) => c.id === code.id)).not.toHaveProperty('code');
    await api.revokeClaimCode('org-acme', code.id);

    const grant = await api.createGrant('org-acme', {
      userId: 'u-bob',
      target: { kind: 'device', deviceId: id },
      role: 'operator',
      expiresAt: null,
    });
    expect(await api.listGrants('org-acme', { deviceId: id })).toEqual([grant]);
    expect((await api.updateGrant('org-acme', grant.id, { role: 'viewer' })).role).toBe('viewer');
    await api.deleteGrant('org-acme', grant.id);

    const invite = await api.createInvite('org-acme', { email: 'eve@example.com', role: 'member' });
    expect(await api.listInvites('org-acme')).toEqual([invite]);
    await api.revokeInvite('org-acme', invite.id);
    expect(await api.listInvites('org-acme')).toEqual([]);
    expect((await api.listMembers('org-acme')).map((m) => m.userId)).toEqual(['u-ada', 'u-bob']);
    expect((await api.listOrgs()).map((o) => o.id)).toEqual(['org-acme', 'org-lab']);
  });

  it('reads registrar error bodies: code, message list, correlation id', async () => {
    const { api } = client(
      () =>
        new Response(
          JSON.stringify({
            statusCode: 400,
            message: ['name must be short', 'tags must be an array'],
            error: 'Bad Request',
            correlationId: 'c-1',
          }),
          { status: 400, headers: { 'content-type': 'application/json' } },
        ),
    );
    await expect(api.renameDevice('o', 'd', 'x')).rejects.toMatchObject({
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
    await expect(api.listOrgs()).rejects.toMatchObject({
      status: 502,
      code: 'HTTP_502',
      message: 'Bad Gateway',
    });
  });

  it('reports an unreachable registrar as status 0 NETWORK', async () => {
    const { api } = client(() => Promise.reject(new TypeError('fetch failed')));
    const error = await api.listOrgs().catch((e: unknown) => e);
    expect(error).toMatchObject({ status: 0, code: 'NETWORK' });
    expect((error as { cause?: unknown }).cause).toBeInstanceOf(TypeError);
  });

  it('rejects an unreadable success body', async () => {
    const { api } = client(() => new Response('not json', { status: 200 }));
    await expect(api.listOrgs()).rejects.toMatchObject({ code: 'BAD_RESPONSE' });
  });

  it('requests a session ticket', async () => {
    const { api, platform } = client(
      () =>
        new Response(JSON.stringify({ sessionId: 's1', grant: 'a.b.c', iceServers: [] }), {
          status: 201,
        }),
    );
    const ticket = await api.requestSession({ deviceId: 'd1', sessionKey: { kty: 'OKP' } });
    expect(ticket.sessionId).toBe('s1');
    expect(await platform.requests[0]?.json()).toEqual({
      deviceId: 'd1',
      sessionKey: { kty: 'OKP' },
    });
  });
});
