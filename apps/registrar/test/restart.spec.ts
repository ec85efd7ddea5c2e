// Restart on the same PostgreSQL loses nothing: data, sessions, signing key, migrations.
import { readdirSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  Api,
  createTestDatabase,
  newAgent,
  startRegistrar,
  type TestDatabase,
  tempDir,
} from './helpers.js';

/** Every committed migration, in the order the registrar applies them. */
const MIGRATIONS = readdirSync(join(import.meta.dirname, '../../../prisma/migrations')).sort();
let db: TestDatabase;
let dir: Awaited<ReturnType<typeof tempDir>>;

beforeAll(async () => {
  db = await createTestDatabase();
  dir = await tempDir();
});
afterAll(async () => {
  await db?.drop();
  await dir?.remove();
});

describe('restart', () => {
  it('keeps everything across a stop and start', async () => {
    const env = { DATABASE_URL: db.url, DATA_DIR: dir.path };
    const first = await startRegistrar(env);
    let token: string;
    let deviceId: string;
    let registrarKey: unknown;
    let grantId: string;
    try {
      expect(first.migrations.applied).toEqual(MIGRATIONS);
      const api = await new Api(first.url).login();
      token = api.token!;
      const code = await api.post('/api/claim-codes', { tags: ['keep'] });
      const enrolled = await newAgent().enroll(api, code.body.code);
      deviceId = enrolled.body.deviceId;
      registrarKey = enrolled.body.registrarKey;
      const me = await api.get('/api/auth/me');
      grantId = (
        await api.post('/api/grants', {
          userId: me.body.user.id,
          deviceTag: 'keep',
          role: 'viewer',
        })
      ).body.id;
      await api.patch(`/api/devices/${deviceId}`, { name: 'renamed' });
    } finally {
      await first.close();
    }
    const keyFile = await readFile(join(dir.path, 'registrar-key.jwk'), 'utf8');

    const second = await startRegistrar(env);
    try {
      expect(second.migrations).toEqual({ applied: [], alreadyApplied: MIGRATIONS });
      expect(second.bootstrap).toBeNull();
      const api = new Api(second.url, token);
      expect((await api.get('/api/auth/me')).status).toBe(200);
      expect((await api.get(`/api/devices/${deviceId}`)).body).toMatchObject({
        name: 'renamed',
        tags: ['keep'],
      });
      expect((await api.get(`/api/grants/${grantId}`)).status).toBe(200);
      const audit = (await api.get('/api/audit?limit=100')).body.items.map((e: any) => e.action);
      expect(audit).toEqual(
        expect.arrayContaining([
          'org.bootstrap',
          'auth.login',
          'claim_code.create',
          'device.enroll',
          'grant.create',
          'device.rename',
        ]),
      );
      // Same signing key: agents enrolled before the restart still trust the grants.
      expect(await readFile(join(dir.path, 'registrar-key.jwk'), 'utf8')).toBe(keyFile);
      const code = await api.post('/api/claim-codes', {});
      expect((await newAgent().enroll(api, code.body.code)).body.registrarKey).toEqual(
        registrarKey,
      );
    } finally {
      await second.close();
    }
  });
});
