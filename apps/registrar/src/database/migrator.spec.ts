import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../config/config.js';
import { checksumOf, migrate, MigrationError, readMigrations, type Migration } from './migrator.js';
import { openSqlDriver, type SqlDriver } from './sql-driver.js';

const m = (name: string, sql: string): Migration => ({ name, sql, checksum: checksumOf(sql) });

describe('migrator (PGlite in memory)', () => {
  let driver: SqlDriver;
  // One PGlite for the file (it takes seconds to start); each test starts from an empty schema.
  beforeAll(async () => {
    driver = await openSqlDriver({ pgliteDir: 'memory://' });
  });
  afterAll(async () => {
    await driver.close();
  });
  beforeEach(async () => {
    await driver.transaction((tx) => tx.exec('DROP SCHEMA public CASCADE; CREATE SCHEMA public;'));
  });

  it('applies pending migrations in order, once', async () => {
    const list = [
      m('0001_a', 'CREATE TABLE a (x int);'),
      m('0002_b', 'INSERT INTO a VALUES (1), (2);'),
    ];
    expect(await migrate(driver, list)).toEqual({
      applied: ['0001_a', '0002_b'],
      alreadyApplied: [],
    });
    expect(await migrate(driver, list)).toEqual({
      applied: [],
      alreadyApplied: ['0001_a', '0002_b'],
    });
    expect(await driver.query('SELECT count(*)::int AS n FROM a')).toEqual([{ n: 2 }]);
  });

  it('refuses an applied migration whose file changed', async () => {
    await migrate(driver, [m('0001_a', 'CREATE TABLE a (x int);')]);
    await expect(migrate(driver, [m('0001_a', 'CREATE TABLE a (y int);')])).rejects.toThrow(
      /checksum mismatch/,
    );
  });

  it('refuses a database that is newer than the code', async () => {
    await migrate(driver, [m('0001_a', 'SELECT 1;'), m('0002_b', 'SELECT 1;')]);
    await expect(migrate(driver, [m('0001_a', 'SELECT 1;')])).rejects.toThrow(/does not know/);
  });

  it('rolls back everything when a migration fails', async () => {
    const bad = [m('0001_a', 'CREATE TABLE a (x int);'), m('0002_b', 'THIS IS NOT SQL;')];
    await expect(migrate(driver, bad)).rejects.toBeInstanceOf(MigrationError);
    expect(await driver.query(`SELECT to_regclass('a') AS t`)).toEqual([{ t: null }]);
    expect(await migrate(driver, [m('0001_a', 'CREATE TABLE a (x int);')])).toEqual({
      applied: ['0001_a'],
      alreadyApplied: [],
    });
  });

  it('applies the committed migrations of this repository', async () => {
    const list = await readMigrations(loadConfig({}).migrationsDir);
    expect(list[0]?.name).toBe('0001_init');
    const result = await migrate(driver, list);
    expect(result.applied).toEqual(list.map((x) => x.name));
    const tables = await driver.query<{ table_name: string }>(
      `SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY 1`,
    );
    expect(tables.map((t) => t.table_name)).toEqual(
      expect.arrayContaining(['devices', 'claim_codes', 'grants', 'audit_events', 'revoked_keys']),
    );
  });
});

describe('readMigrations', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'pf-migrations-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('sorts by name and rejects badly named directories', async () => {
    for (const name of ['0002_b', '0001_a']) {
      await mkdir(join(dir, name));
      await writeFile(join(dir, name, 'migration.sql'), `-- ${name}\n`);
    }
    expect((await readMigrations(dir)).map((x) => x.name)).toEqual(['0001_a', '0002_b']);
    await mkdir(join(dir, 'oops'));
    await expect(readMigrations(dir)).rejects.toThrow(/NNNN_name/);
  });

  it('fails on a missing or empty directory', async () => {
    await expect(readMigrations(join(dir, 'nope'))).rejects.toBeInstanceOf(MigrationError);
    await expect(readMigrations(dir)).rejects.toThrow(/no migrations/);
  });
});
