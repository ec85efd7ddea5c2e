// Embedded default: no DATABASE_URL → PGlite on disk. Full enrollment, then a restart on
// the same data directory keeps everything (and does not bootstrap again). A member's role
// change and removal (row locks) work on PGlite too.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Api, newAgent, startRegistrar, tempDir } from './helpers.js';

let dir: Awaited<ReturnType<typeof tempDir>>;
beforeAll(async () => {
  dir = await tempDir();
});
afterAll(async () => {
  await dir?.remove();
});

describe('embedded PGlite', () => {
  it('serves the whole enrollment flow and survives a restart', async () => {
    const first = await startRegistrar({ DATA_DIR: dir.path });
    let deviceId: string;
    let token: string;
    try {
      expect(first.bootstrap).toMatchObject({ email: 'admin@example.com' });
      expect(await fetch(`${first.url}/ready`).then((r) => r.json())).toEqual({
        status: 'ready',
        database: 'pglite',
        mqtt: 'connected',
      });
      const api = await new Api(first.url).login();
      token = api.token!;
      const code = await api.post('/api/claim-codes', { tags: ['embedded'] });
      expect(code.status).toBe(201);
      const enrolled = await newAgent().enroll(api, code.body.code);
      expect(enrolled.status).toBe(201);
      deviceId = enrolled.body.deviceId;
      const list = await api.get('/api/devices?tag=embedded');
      expect(list.body.items.map((d: any) => d.id)).toEqual([deviceId]);
      // A member change takes a row lock on the organization (SELECT … FOR UPDATE).
      const member = await api.post('/api/users', {
        email: 'embedded-member@example.com',
        name: 'Member',
        password: 'member password 123',
        role: 'member',
      });
      expect((await api.patch(`/api/users/${member.body.id}`, { role: 'admin' })).body.role).toBe(
        'admin',
      );
      expect((await api.delete(`/api/users/${member.body.id}`)).status).toBe(204);
    } finally {
      await first.close();
    }

    const second = await startRegistrar({ DATA_DIR: dir.path });
    try {
      expect(second.bootstrap).toBeNull();
      expect(second.migrations.applied).toEqual([]);
      const api = new Api(second.url, token);
      expect((await api.get('/api/auth/me')).status).toBe(200);
      expect((await api.get(`/api/devices/${deviceId}`)).body.tags).toEqual(['embedded']);
      const audit = await api.get('/api/audit?action=device.enroll');
      expect(audit.body.items).toHaveLength(1);
    } finally {
      await second.close();
    }
  });
});
