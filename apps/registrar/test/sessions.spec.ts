// Session requests against the real PostgreSQL: grant checks (a viewer cannot get an
// operator grant), signed grants the device can verify, ICE servers from org settings.
import { createHmac } from 'node:crypto';
import {
  DEFAULT_GRANT_TTL_S,
  assertGrantBoundTo,
  createSigner,
  exportPublicJwk,
  generateKeyPair,
  verifyGrant,
} from '@peerfetch/crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Registrar } from '../src/app.js';
import {
  Api,
  createTestDatabase,
  newAgent,
  startRegistrar,
  type TestDatabase,
  tempDir,
} from './helpers.js';

let db: TestDatabase;
let dir: Awaited<ReturnType<typeof tempDir>>;
let registrar: Registrar;
let admin: Api;
let member: Api;
let memberId: string;
let deviceId: string;
let registrarKey: unknown;

const sessionKey = () => createSigner(generateKeyPair());
const TURN_URLS = ['turn:turn.example.com:3478?transport=udp', 'turns:turn.example.com:5349'];
const TURN_SECRET = 'coturn-static-auth-secret-for-tests';

beforeAll(async () => {
  db = await createTestDatabase();
  dir = await tempDir();
  registrar = await startRegistrar({
    DATABASE_URL: db.url,
    DATA_DIR: dir.path,
    TURN_URLS: TURN_URLS.join(','),
    TURN_SECRET,
  });
  admin = await new Api(registrar.url).login();
  const code = await admin.post('/api/claim-codes', { tags: ['cam'] });
  const enrolled = await newAgent().enroll(admin, code.body.code);
  deviceId = enrolled.body.deviceId;
  registrarKey = enrolled.body.registrarKey;
  const created = await admin.post('/api/users', {
    email: 'viewer@example.com',
    name: 'Viewer',
    password: 'viewer password 1',
    role: 'member',
  });
  memberId = created.body.id;
  member = await new Api(registrar.url).login('viewer@example.com', 'viewer password 1');
});

afterAll(async () => {
  await registrar?.close();
  await db?.drop();
  await dir?.remove();
});

describe('org settings', () => {
  it('stores validated STUN servers; members cannot read or change them', async () => {
    const bad = await admin.put('/api/org/settings', { iceServers: [{ urls: ['http://x'] }] });
    expect(bad.status).toBe(400);
    const ok = await admin.put('/api/org/settings', {
      iceServers: [
        { urls: ['stun:stun.example.com:3478'] },
        { urls: ['stuns:stun.example.com:5349'] },
      ],
    });
    expect(ok.status).toBe(200);
    expect(ok.body.iceServers).toHaveLength(2);
    expect((await admin.get('/api/org/settings')).body).toEqual(ok.body);
    expect((await member.get('/api/org/settings')).status).toBe(403);
    const audit = await admin.get('/api/audit?action=org.settings');
    expect(audit.body.items).toHaveLength(1);
  });

  it('refuses TURN servers and static credentials: the registrar issues TURN per session', async () => {
    for (const server of [
      { urls: ['turn:turn.example.com:3478'] },
      { urls: ['stun:stun.example.com:3478'], username: 'u', credential: 'static-secret' },
    ]) {
      const r = await admin.put('/api/org/settings', { iceServers: [server] });
      expect(r.status).toBe(400);
      expect(JSON.stringify(r.body)).toContain('TURN_URLS + TURN_SECRET');
      expect(JSON.stringify(r.body)).not.toContain('static-secret');
    }
    expect((await admin.get('/api/org/settings')).body.iceServers).toHaveLength(2);
  });
});

describe('per-session TURN credentials', () => {
  it('mint TURN REST API credentials for this session and the console, expiring with the grant', async () => {
    const before = Math.floor(Date.now() / 1000);
    const r = await admin.post('/api/sessions', {
      deviceId,
      sessionKey: exportPublicJwk(sessionKey().publicKey),
    });
    expect(r.status).toBe(201);
    const servers = r.body.iceServers as {
      urls: string[];
      username?: string;
      credential?: string;
    }[];
    expect(servers.filter((s) => s.username === undefined).map((s) => s.urls)).toEqual([
      ['stun:stun.example.com:3478'],
      ['stuns:stun.example.com:5349'],
    ]);
    const turn = servers.find((s) => s.username !== undefined);
    expect(turn?.urls).toEqual(TURN_URLS);
    const [expiry, user] = String(turn?.username).split(':');
    expect(user).toBe(`${r.body.sessionId}.console`);
    const grant = await verifyGrant(r.body.grant, {
      registrarKey: registrarKey as never,
      deviceId,
    });
    // valid as long as the grant, plus one minute of clock slack, and no longer
    expect(Number(expiry)).toBeGreaterThanOrEqual(grant.exp + 59);
    expect(Number(expiry)).toBeLessThanOrEqual(grant.exp + 61);
    expect(Number(expiry) - before).toBeLessThan(DEFAULT_GRANT_TTL_S + 120);
    // what coturn (use-auth-secret) recomputes from the shared secret
    expect(turn?.credential).toBe(
      createHmac('sha1', TURN_SECRET).update(String(turn?.username)).digest('base64'),
    );
    // a second session gets other credentials; the secret itself never leaves
    const again = await admin.post('/api/sessions', {
      deviceId,
      sessionKey: exportPublicJwk(sessionKey().publicKey),
    });
    const other = (again.body.iceServers as { username?: string }[]).find((s) => s.username);
    expect(other?.username).not.toBe(turn?.username);
    expect(JSON.stringify([r.body, again.body])).not.toContain(TURN_SECRET);
  });
});

describe('sessions', () => {
  it('gives an admin a grant the device can verify, bound to the session key', async () => {
    const key = sessionKey();
    const r = await admin.post('/api/sessions', {
      deviceId,
      sessionKey: exportPublicJwk(key.publicKey),
    });
    expect(r.status).toBe(201);
    expect(r.body).toMatchObject({ deviceId, role: 'admin', sessionId: expect.any(String) });
    expect(r.body.iceServers[0].urls).toEqual(['stun:stun.example.com:3478']);
    const grant = await verifyGrant(r.body.grant, {
      registrarKey: registrarKey as never,
      deviceId,
      issuer: 'peerfetch-registrar',
    });
    expect(grant).toMatchObject({ aud: deviceId, role: 'admin', sid: r.body.sessionId });
    expect(grant.sub).toBe((await admin.get('/api/auth/me')).body.user.id);
    expect(() => assertGrantBoundTo(grant, key.publicKey)).not.toThrow();
    expect(() => assertGrantBoundTo(grant, sessionKey().publicKey)).toThrow();
    await expect(
      verifyGrant(r.body.grant, { registrarKey: registrarKey as never, deviceId: memberId }),
    ).rejects.toThrow();
  });

  it('a user without a grant cannot get one; a viewer cannot get an operator grant', async () => {
    const jwk = exportPublicJwk(sessionKey().publicKey);
    expect((await member.post('/api/sessions', { deviceId, sessionKey: jwk })).status).toBe(404);

    const g = await admin.post('/api/grants', {
      userId: memberId,
      deviceTag: 'cam',
      role: 'viewer',
    });
    expect(g.status).toBe(201);
    const asOperator = await member.post('/api/sessions', {
      deviceId,
      sessionKey: jwk,
      role: 'operator',
    });
    expect(asOperator.status).toBe(403);
    expect(asOperator.body.message).toContain('viewer');
    const asViewer = await member.post('/api/sessions', { deviceId, sessionKey: jwk });
    expect(asViewer.status).toBe(201);
    expect(asViewer.body.role).toBe('viewer');
    const grant = await verifyGrant(asViewer.body.grant, {
      registrarKey: registrarKey as never,
      deviceId,
    });
    expect(grant.role).toBe('viewer');

    const log = (await admin.get('/api/audit?limit=100')).body.items;
    expect(
      log.some((e: any) => e.action === 'session.refused' && e.details.requested === 'operator'),
    ).toBe(true);
    expect(
      log.some(
        (e: any) =>
          e.action === 'session.request' && e.details.sessionId === asViewer.body.sessionId,
      ),
    ).toBe(true);
  });

  it('refuses a bad session key and a revoked device', async () => {
    const bad = await admin.post('/api/sessions', {
      deviceId,
      sessionKey: { kty: 'OKP', crv: 'Ed25519', x: 'A'.repeat(42) },
    });
    expect(bad.status).toBe(400);
    const code = await admin.post('/api/claim-codes', {});
    const other = (await newAgent().enroll(admin, code.body.code)).body.deviceId;
    await admin.post(`/api/devices/${other}/revoke`, {});
    const r = await admin.post('/api/sessions', {
      deviceId: other,
      sessionKey: exportPublicJwk(sessionKey().publicKey),
    });
    expect(r.status).toBe(403);
    expect(r.body.code).toBe('KEY_REVOKED');
  });
});
