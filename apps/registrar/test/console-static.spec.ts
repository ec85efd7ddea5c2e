// CONSOLE_DIR: the registrar serves the built console at `/` (SPA fallback), never in the
// way of the API, health or metrics routes.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Registrar } from '../src/app.js';
import { createTestDatabase, startRegistrar, type TestDatabase, tempDir } from './helpers.js';

let db: TestDatabase;
let dir: Awaited<ReturnType<typeof tempDir>>;
let registrar: Registrar;

beforeAll(async () => {
  db = await createTestDatabase();
  dir = await tempDir();
  const consoleDir = join(dir.path, 'console');
  await mkdir(join(consoleDir, 'assets'), { recursive: true });
  await writeFile(join(consoleDir, 'index.html'), '<!doctype html><title>peerfetch</title>');
  await writeFile(join(consoleDir, 'assets', 'app.js'), 'console.log(1)');
  registrar = await startRegistrar({
    DATABASE_URL: db.url,
    DATA_DIR: dir.path,
    CONSOLE_DIR: consoleDir,
  });
});

afterAll(async () => {
  await registrar?.close();
  await db?.drop();
  await dir?.remove();
});

describe('console static files', () => {
  it('serves index.html, assets and the SPA fallback; API routes stay API', async () => {
    const index = await fetch(`${registrar.url}/`, { headers: { accept: 'text/html' } });
    expect(index.status).toBe(200);
    expect(await index.text()).toContain('<title>peerfetch</title>');
    expect(index.headers.get('x-frame-options')).toBe('DENY');
    const asset = await fetch(`${registrar.url}/assets/app.js`);
    expect(await asset.text()).toBe('console.log(1)');
    const deep = await fetch(`${registrar.url}/devices/123`, { headers: { accept: 'text/html' } });
    expect(await deep.text()).toContain('<title>peerfetch</title>');
    const api = await fetch(`${registrar.url}/api/devices`, { headers: { accept: 'text/html' } });
    expect(api.status).toBe(401);
    const missing = await fetch(`${registrar.url}/api/nope`, { headers: { accept: 'text/html' } });
    expect(missing.status).toBe(404);
    expect(await (await fetch(`${registrar.url}/health`)).json()).toEqual({ status: 'ok' });
    const traversal = await fetch(`${registrar.url}/..%2f..%2fetc%2fpasswd`, {
      headers: { accept: 'application/json' },
    });
    expect(traversal.status).toBeGreaterThanOrEqual(400);
  });
});
