// The audit log is written in batches: every event recorded before a registrar stops is in
// the database afterwards, in order, with the time it happened; and the replica that
// recorded an event shows it in /api/audit at once.
import { createSigner, exportPublicJwk, generateKeyPair } from '@peerfetch/crypto';
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
let registrar: Registrar | undefined;

beforeAll(async () => {
  db = await createTestDatabase();
  dir = await tempDir();
});

afterAll(async () => {
  await registrar?.close();
  await db?.drop();
  await dir?.remove();
});

describe('audit batching', () => {
  it('persists every session event by shutdown, in order, and shows them at once', async () => {
    registrar = await startRegistrar({ DATABASE_URL: db.url, DATA_DIR: dir.path });
    const admin = await new Api(registrar.url).login();
    const code = await admin.post('/api/claim-codes', {});
    const enrolled = await newAgent().enroll(admin, code.body.code);
    expect(enrolled.status).toBe(201);
    const deviceId = enrolled.body.deviceId as string;
    const sessionKey = exportPublicJwk(createSigner(generateKeyPair()).publicKey);

    const sessionIds: string[] = [];
    for (let i = 0; i < 40; i++) {
      const r = await admin.post('/api/sessions', { deviceId, sessionKey });
      expect(r.status).toBe(201);
      sessionIds.push(r.body.sessionId);
    }
    // Read-your-writes on this replica.
    const shown = await admin.get('/api/audit?action=session.request&limit=100');
    expect(shown.body.items.map((e: any) => e.details.sessionId).reverse()).toEqual(sessionIds);

    for (let i = 0; i < 25; i++) {
      const r = await admin.post('/api/sessions', { deviceId, sessionKey });
      sessionIds.push(r.body.sessionId);
    }
    await registrar.close();
    registrar = undefined;

    const rows = await db.sql<{ details: { sessionId: string }; ts: Date }>(
      `SELECT details, ts FROM audit_events WHERE action = 'session.request' ORDER BY id`,
    );
    expect(rows.map((r) => r.details.sessionId)).toEqual(sessionIds);
    const times = rows.map((r) => new Date(r.ts).getTime());
    expect([...times].sort((a, b) => a - b)).toEqual(times);
  });
});
