// Enrollment against the real PostgreSQL: claim code → agent proof → device record → MQTT
// credentials, and every way it must be refused.
import { createHash } from 'node:crypto';
import {
  createEnrollmentProof,
  createSigner,
  generateKeyPair,
  keyFingerprint,
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
let api: Api;

beforeAll(async () => {
  db = await createTestDatabase();
  dir = await tempDir();
  registrar = await startRegistrar({ DATABASE_URL: db.url, DATA_DIR: dir.path });
  api = await new Api(registrar.url).login();
});

afterAll(async () => {
  await registrar?.close();
  await db?.drop();
  await dir?.remove();
});

async function newCode(body: Record<string, unknown> = {}): Promise<{ id: string; code: string }> {
  const r = await api.post('/api/claim-codes', body);
  expect(r.status).toBe(201);
  return r.body;
}

async function auditActions(targetOrAction: { action?: string }): Promise<any[]> {
  const q = targetOrAction.action ? `?action=${targetOrAction.action}` : '';
  const r = await api.get(`/api/audit${q}`);
  expect(r.status).toBe(200);
  return r.body.items;
}

describe('enrollment', () => {
  it('enrolls a device: record, tags, credentials, registrar key, audit', async () => {
    const { code } = await newCode({ label: 'camera-1', tags: ['site:lab', 'camera'] });
    const agent = newAgent();
    const r = await agent.enroll(api, code);
    expect(r.status).toBe(201);
    const me = await api.get('/api/auth/me');
    expect(r.body).toMatchObject({
      deviceId: expect.stringMatching(/^[0-9a-f-]{36}$/),
      orgId: me.body.orgId,
      registrarKey: { kty: 'OKP', crv: 'Ed25519', x: expect.any(String) },
      mqtt: { url: expect.stringMatching(/^mqtt:\/\//), password: expect.any(String) },
    });
    expect(r.body.mqtt.username).toBe(r.body.deviceId);
    expect(r.body.mqtt.password.length).toBeGreaterThanOrEqual(40);

    const device = await api.get(`/api/devices/${r.body.deviceId}`);
    expect(device.status).toBe(200);
    expect(device.body).toMatchObject({
      name: 'camera-1',
      tags: ['camera', 'site:lab'],
      agentVersion: '0.1.0-test',
      keyFingerprint: keyFingerprint(agent.signer.publicKey).base64url,
      status: 'offline',
    });
    // Only hashes are stored: neither the claim code nor the MQTT password in clear.
    const rows = await db.sql<{ mqtt_password_hash: string }>(
      'SELECT mqtt_password_hash FROM devices WHERE id = $1',
      [r.body.deviceId],
    );
    expect(rows[0]?.mqtt_password_hash).toBe(
      createHash('sha256').update(r.body.mqtt.password).digest('hex'),
    );
    const dump = JSON.stringify(await db.sql('SELECT * FROM claim_codes'));
    expect(dump).not.toContain(code);
    expect(dump).not.toContain(code.replaceAll('-', ''));

    const enrolls = await auditActions({ action: 'device.enroll' });
    expect(enrolls.some((e) => e.targetId === r.body.deviceId && e.actorType === 'device')).toBe(
      true,
    );
    const codes = await api.get('/api/claim-codes');
    expect(codes.body.find((c: any) => c.usedByDevice === r.body.deviceId)?.state).toBe('used');
    expect(JSON.stringify(codes.body)).not.toContain(code);
  });

  it('accepts the code in any case and without dashes, and a name from the agent', async () => {
    const { code } = await newCode();
    const r = await newAgent().enroll(api, code.toLowerCase().replaceAll('-', ''), {
      name: 'kiosk',
    });
    expect(r.status).toBe(201);
    expect((await api.get(`/api/devices/${r.body.deviceId}`)).body.name).toBe('kiosk');
  });

  it('refuses a wrong claim code', async () => {
    const r = await newAgent().enroll(api, 'AAAAA-BBBBB-CCCCC-DDDDD');
    expect(r.status).toBe(403);
    expect(r.body.code).toBe('CLAIM_CODE_INVALID');
  });

  it('refuses a used claim code (single use)', async () => {
    const { code } = await newCode();
    expect((await newAgent().enroll(api, code)).status).toBe(201);
    const again = await newAgent().enroll(api, code);
    expect(again.status).toBe(403);
    expect(again.body.code).toBe('CLAIM_CODE_INVALID');
    const refused = await auditActions({ action: 'device.enroll_refused' });
    expect(refused.some((e) => e.details.reason === 'code:used')).toBe(true);
  });

  it('refuses an expired claim code', async () => {
    const { id, code } = await newCode();
    await db.sql(`UPDATE claim_codes SET expires_at = now() - interval '1 second' WHERE id = $1`, [
      id,
    ]);
    const r = await newAgent().enroll(api, code);
    expect(r.status).toBe(403);
    expect(r.body.code).toBe('CLAIM_CODE_INVALID');
    const refused = await auditActions({ action: 'device.enroll_refused' });
    expect(refused.some((e) => e.details.reason === 'code:expired')).toBe(true);
  });

  it('refuses a revoked claim code', async () => {
    const { id, code } = await newCode();
    const revoke = await api.post(`/api/claim-codes/${id}/revoke`);
    expect(revoke.status).toBe(200);
    expect(revoke.body.state).toBe('revoked');
    const r = await newAgent().enroll(api, code);
    expect(r.status).toBe(403);
  });

  it('refuses a replayed enrollment nonce, even with a fresh valid code', async () => {
    const agent = newAgent();
    const { code } = await newCode();
    const body = await agent.enrollBody(api, code);
    expect((await api.request('POST', '/api/enroll', { body, token: null })).status).toBe(201);
    const { code: code2 } = await newCode();
    const proof2 = await createEnrollmentProof({
      code: code2,
      nonce: body.nonce,
      signer: createSigner(generateKeyPair()),
    });
    const replay = await api.request('POST', '/api/enroll', {
      body: { ...body, code: code2, ...proof2 },
      token: null,
    });
    expect(replay.status).toBe(400);
    expect(replay.body.code).toBe('ENROLLMENT_NONCE_INVALID');
  });

  it('refuses an unknown or expired nonce', async () => {
    const { code } = await newCode();
    const agent = newAgent();
    const body = await agent.enrollBody(api, code);
    await db.sql(
      `UPDATE enrollment_nonces SET expires_at = now() - interval '1 second' WHERE nonce = $1`,
      [body.nonce],
    );
    const r = await api.request('POST', '/api/enroll', { body, token: null });
    expect(r.body.code).toBe('ENROLLMENT_NONCE_INVALID');
    // The code was not consumed by the refused attempt.
    expect((await agent.enroll(api, code)).status).toBe(201);
  });

  it('refuses a proof made with another key, and leaves the code usable', async () => {
    const { code } = await newCode();
    const agent = newAgent();
    const body = await agent.enrollBody(api, code);
    const other = await createEnrollmentProof({
      code,
      nonce: body.nonce,
      signer: createSigner(generateKeyPair()),
    });
    const r = await api.request('POST', '/api/enroll', {
      body: { ...body, proof: other.proof },
      token: null,
    });
    expect(r.status).toBe(400);
    expect(r.body.code).toBe('ENROLLMENT_PROOF_INVALID');
    expect((await agent.enroll(api, code)).status).toBe(201);
  });

  it('refuses a proof bound to another claim code', async () => {
    const a = await newCode();
    const b = await newCode();
    const agent = newAgent();
    const body = await agent.enrollBody(api, a.code);
    const r = await api.request('POST', '/api/enroll', {
      body: { ...body, code: b.code },
      token: null,
    });
    expect(r.body.code).toBe('ENROLLMENT_PROOF_INVALID');
  });

  it('refuses a key that is already enrolled', async () => {
    const agent = newAgent();
    expect((await agent.enroll(api, (await newCode()).code)).status).toBe(201);
    const again = await agent.enroll(api, (await newCode()).code);
    expect(again.status).toBe(409);
    expect(again.body.code).toBe('KEY_ALREADY_ENROLLED');
  });

  it('refuses a revoked key for ever, and drops its MQTT credential', async () => {
    const agent = newAgent();
    const enrolled = await agent.enroll(api, (await newCode()).code);
    const id = enrolled.body.deviceId;
    const revoked = await api.post(`/api/devices/${id}/revoke`, { reason: 'stolen' });
    expect(revoked.status).toBe(200);
    expect(revoked.body.status).toBe('revoked');
    const rows = await db.sql('SELECT mqtt_password_hash FROM devices WHERE id = $1', [id]);
    expect(rows[0]?.['mqtt_password_hash']).toBeNull();
    await api.delete(`/api/devices/${id}`);
    const again = await agent.enroll(api, (await newCode()).code);
    expect(again.status).toBe(403);
    expect(again.body.code).toBe('KEY_REVOKED');
    const log = await auditActions({ action: 'device.revoke_key' });
    expect(log.some((e) => e.targetId === id && e.details.reason === 'stolen')).toBe(true);
  });

  it('rejects a malformed public key with a clear 400', async () => {
    const { code } = await newCode();
    const agent = newAgent();
    const body = await agent.enrollBody(api, code);
    const r = await api.request('POST', '/api/enroll', {
      body: { ...body, publicKey: { kty: 'RSA', n: 'x', e: 'AQAB' } },
      token: null,
    });
    expect(r.status).toBe(400);
    expect(r.body.code).toBe('VALIDATION_FAILED');
  });
});
