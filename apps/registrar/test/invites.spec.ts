// Invitations against the real PostgreSQL: the token is shown once, single use, expiring,
// revocable, replaced by a re-invite; a new account chooses its password, an existing
// account proves its own; roles are capped by the inviter's; every step is audited.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Registrar } from '../src/app.js';
import {
  ADMIN_PASSWORD,
  Api,
  createTestDatabase,
  startRegistrar,
  type TestDatabase,
  tempDir,
  seedOrg,
} from './helpers.js';

let db: TestDatabase;
let dir: Awaited<ReturnType<typeof tempDir>>;
let registrar: Registrar;
let admin: Api;
let anon: Api;
let orgId: string;

beforeAll(async () => {
  db = await createTestDatabase();
  dir = await tempDir();
  registrar = await startRegistrar({
    DATABASE_URL: db.url,
    DATA_DIR: dir.path,
    LOGIN_RATE_LIMIT: '1000',
  });
  admin = await new Api(registrar.url).login();
  anon = new Api(registrar.url);
  orgId = (await admin.get('/api/auth/me')).body.orgId;
  // Someone who already has an account, in another organization.
  await seedOrg(registrar, {
    orgName: 'elsewhere',
    email: 'existing@example.com',
    name: 'Existing Person',
  });
});

afterAll(async () => {
  await registrar?.close();
  await db?.drop();
  await dir?.remove();
});

async function invite(email: string, role = 'member', api = admin) {
  const r = await api.post('/api/invites', { email, role });
  expect(r.status, r.text).toBe(201);
  return r.body as { id: string; token: string; state: string; email: string };
}

async function auditActions(action: string): Promise<any[]> {
  const r = await admin.get(`/api/audit?action=${action}&limit=100`);
  expect(r.status).toBe(200);
  return r.body.items;
}

describe('invitations', () => {
  it('a new person accepts once with a password of their choosing and can sign in', async () => {
    const inv = await invite('New.Person@Example.com', 'member');
    expect(inv.token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(inv).toMatchObject({ email: 'new.person@example.com', state: 'pending' });
    // The token is shown once: neither the list nor the database holds it.
    const list = await admin.get('/api/invites');
    expect(list.body.find((i: any) => i.id === inv.id)).toMatchObject({ state: 'pending' });
    expect(list.text).not.toContain(inv.token);
    const rows = await db.sql('SELECT token_hash FROM invitations WHERE id = $1', [inv.id]);
    expect(rows[0]?.['token_hash']).not.toBe(inv.token);

    const preview = await anon.post('/api/invites/preview', { token: inv.token });
    expect(preview.status, preview.text).toBe(200);
    expect(preview.body).toMatchObject({
      email: 'new.person@example.com',
      role: 'member',
      existingUser: false,
    });

    const accepted = await anon.post('/api/invites/accept', {
      token: inv.token,
      name: 'New Person',
      password: 'a new password 123',
    });
    expect(accepted.status, accepted.text).toBe(200);
    expect(accepted.body).toMatchObject({ orgId, role: 'member', accountCreated: true });

    const person = await new Api(registrar.url).login(
      'new.person@example.com',
      'a new password 123',
    );
    const me = await person.get('/api/auth/me');
    expect(me.body).toMatchObject({ orgId, role: 'member' });
    // A member is not an admin: no inviting.
    expect(
      (await person.post('/api/invites', { email: 'x@example.com', role: 'member' })).status,
    ).toBe(403);
    expect((await person.get('/api/invites')).status).toBe(403);

    // Single use.
    const again = await anon.post('/api/invites/accept', {
      token: inv.token,
      name: 'Someone Else',
      password: 'another password 123',
    });
    expect(again.status).toBe(403);
    expect(again.body.code).toBe('INVITE_INVALID');
    expect((await anon.post('/api/invites/preview', { token: inv.token })).status).toBe(403);
    expect((await admin.get('/api/invites')).body.find((i: any) => i.id === inv.id)).toMatchObject({
      state: 'accepted',
      acceptedBy: me.body.user.id,
    });

    expect((await auditActions('invite.create')).some((e) => e.targetId === inv.id)).toBe(true);
    const acceptEvents = await auditActions('invite.accept');
    expect(acceptEvents.find((e) => e.targetId === inv.id)).toMatchObject({
      actorType: 'user',
      details: { email: 'new.person@example.com', accountCreated: true },
    });
    expect(
      (await auditActions('invite.accept_failed')).some(
        (e) => e.targetId === inv.id && e.details.reason === 'accepted',
      ),
    ).toBe(true);
  });

  it('an existing account accepts with its own password; a wrong one changes nothing', async () => {
    const inv = await invite('existing@example.com', 'admin');
    const preview = await anon.post('/api/invites/preview', { token: inv.token });
    expect(preview.body).toMatchObject({ existingUser: true, role: 'admin' });

    const wrong = await anon.post('/api/invites/accept', {
      token: inv.token,
      password: 'not the password',
    });
    expect(wrong.status).toBe(401);
    expect(wrong.body.code).toBe('INVALID_CREDENTIALS');
    // Not used up by the failure.
    expect((await anon.post('/api/invites/preview', { token: inv.token })).status).toBe(200);

    const ok = await anon.post('/api/invites/accept', {
      token: inv.token,
      name: 'Ignored Name',
      password: ADMIN_PASSWORD,
    });
    expect(ok.status, ok.text).toBe(200);
    expect(ok.body).toMatchObject({ orgId, role: 'admin', accountCreated: false });

    // Both organizations now; the password and name stayed the account's own.
    const login = await anon.post('/api/auth/login', {
      email: 'existing@example.com',
      password: ADMIN_PASSWORD,
      orgId,
    });
    expect(login.status).toBe(200);
    expect(login.body.role).toBe('admin');
    expect(login.body.user.name).toBe('Existing Person');
    expect(login.body.memberships).toHaveLength(2);
    const users = await admin.get('/api/users');
    expect(users.body.find((u: any) => u.email === 'existing@example.com')).toMatchObject({
      role: 'admin',
    });
  });

  it('refuses revoked, expired and replaced invitations, and a member twice', async () => {
    const revoked = await invite('revoked@example.com');
    const r = await admin.post(`/api/invites/${revoked.id}/revoke`);
    expect(r.status).toBe(200);
    expect(r.body.state).toBe('revoked');
    const accept = (token: string) =>
      anon.post('/api/invites/accept', { token, name: 'X', password: 'long enough password' });
    expect((await accept(revoked.token)).body.code).toBe('INVITE_INVALID');

    const expired = await invite('expired@example.com');
    await db.sql(`UPDATE invitations SET expires_at = now() - interval '1 minute' WHERE id = $1`, [
      expired.id,
    ]);
    expect((await accept(expired.token)).body.code).toBe('INVITE_INVALID');
    expect((await admin.get('/api/invites')).body.find((i: any) => i.id === expired.id).state).toBe(
      'expired',
    );

    // A re-invite replaces the open one: the first link stops working, the new one works.
    const first = await invite('twice@example.com');
    const second = await invite('twice@example.com', 'admin');
    expect((await accept(first.token)).body.code).toBe('INVITE_INVALID');
    const ok = await accept(second.token);
    expect(ok.status, ok.text).toBe(200);
    expect(ok.body.role).toBe('admin');
    const replaced = await auditActions('invite.revoke');
    expect(replaced.find((e) => e.targetId === first.id)?.details.reason).toBe('replaced');

    // Already a member: nothing to invite.
    const member = await admin.post('/api/invites', { email: 'twice@example.com', role: 'member' });
    expect(member.status).toBe(409);
    expect(member.body.code).toBe('CONFLICT');

    const reasons = (await auditActions('invite.accept_failed')).map((e) => e.details.reason);
    expect(reasons).toEqual(expect.arrayContaining(['revoked', 'expired']));
  });

  it('caps the role at the inviter’s and keeps invitations inside their organization', async () => {
    const inv = await invite('owner-invites-admin@example.com', 'admin');
    await anon.post('/api/invites/accept', {
      token: inv.token,
      name: 'An Admin',
      password: 'admin password 1234',
    });
    const anAdmin = await new Api(registrar.url).login(
      'owner-invites-admin@example.com',
      'admin password 1234',
    );
    const up = await anAdmin.post('/api/invites', { email: 'boss@example.com', role: 'owner' });
    expect(up.status).toBe(403);
    expect(
      (await anAdmin.post('/api/invites', { email: 'peer@example.com', role: 'admin' })).status,
    ).toBe(201);

    // The other organization's owner sees none of this one's invitations.
    const other = await new Api(registrar.url).login('existing@example.com');
    const otherList = await other.get('/api/invites');
    expect(otherList.status).toBe(200);
    expect(otherList.body.some((i: any) => i.id === inv.id)).toBe(false);
    expect((await other.post(`/api/invites/${inv.id}/revoke`)).status).toBe(404);
  });

  it('rejects bad input with a clear 4xx and loses nothing', async () => {
    const inv = await invite('careful@example.com');
    const cases: [unknown, number, RegExp][] = [
      [{ token: 'short' }, 400, /43-character/],
      [{ token: inv.token }, 400, /password/],
      [{ token: inv.token, password: 'short', name: 'A' }, 400, /at least 12/],
      [{ token: inv.token, password: 'long enough password' }, 400, /name is required/],
      [
        { token: inv.token, password: 'long enough password', name: 'A', admin: true },
        400,
        /admin/,
      ],
      [{ token: 42, password: 'long enough password', name: 'A' }, 400, /token/],
    ];
    for (const [body, status, message] of cases) {
      const r = await anon.post('/api/invites/accept', body);
      expect(r.status, JSON.stringify(body)).toBe(status);
      expect(r.text, JSON.stringify(body)).toMatch(message);
    }
    const raw = await anon.request('POST', '/api/invites/accept', { raw: '{"token":' });
    expect(raw.status).toBe(400);
    for (const body of [
      { email: 'not an email', role: 'member' },
      { email: 'a@example.com', role: 'superuser' },
      { email: 'a@example.com', role: 'member', ttlHours: 0 },
      { email: "a@example.com'; DROP TABLE invitations;--", role: 'member' },
    ]) {
      expect((await admin.post('/api/invites', body)).status, JSON.stringify(body)).toBe(400);
    }
    // After all that, the invitation still works.
    const ok = await anon.post('/api/invites/accept', {
      token: inv.token,
      name: 'Careful',
      password: 'long enough password',
    });
    expect(ok.status, ok.text).toBe(200);
  });
});
