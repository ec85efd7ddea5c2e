// Applies the committed SQL migrations (prisma/migrations/<name>/migration.sql) at start:
// in name order, all pending ones in one transaction, each recorded with its SHA-256 in
// `_peerfetch_migrations`. An applied migration whose file changed, or one recorded in the
// database but missing here (the database is newer than this code), stops the boot.
// A transaction-scoped advisory lock serializes replicas that start together.
import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { SqlDriver } from './sql-driver.js';

export interface Migration {
  name: string;
  sql: string;
  checksum: string;
}

export class MigrationError extends Error {
  override readonly name = 'MigrationError';
}

const NAME = /^\d{4}_[a-z0-9_]+$/;
const LOCK_KEY = 0x70665f6d; // "pf_m"

export function checksumOf(sql: string): string {
  return createHash('sha256').update(sql).digest('hex');
}

export async function readMigrations(dir: string): Promise<Migration[]> {
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (error) {
    throw new MigrationError(`cannot read migrations directory ${dir}: ${String(error)}`);
  }
  const names = entries
    .filter((e) => e.isDirectory())
    .map((e) => e.name)
    .sort();
  const migrations: Migration[] = [];
  for (const name of names) {
    if (!NAME.test(name))
      throw new MigrationError(`migration directory "${name}" is not NNNN_name`);
    const sql = await readFile(join(dir, name, 'migration.sql'), 'utf8');
    migrations.push({ name, sql, checksum: checksumOf(sql) });
  }
  if (migrations.length === 0) throw new MigrationError(`no migrations found in ${dir}`);
  return migrations;
}

export interface MigrationResult {
  applied: string[];
  alreadyApplied: string[];
}

export async function migrate(
  driver: SqlDriver,
  migrations: Migration[],
): Promise<MigrationResult> {
  return driver.transaction(async (tx) => {
    await tx.query('SELECT pg_advisory_xact_lock($1)', [LOCK_KEY]);
    await tx.exec(`CREATE TABLE IF NOT EXISTS "_peerfetch_migrations" (
      "name" TEXT PRIMARY KEY,
      "checksum" TEXT NOT NULL,
      "applied_at" TIMESTAMPTZ NOT NULL DEFAULT now()
    )`);
    const rows = await tx.query<{ name: string; checksum: string }>(
      'SELECT "name", "checksum" FROM "_peerfetch_migrations" ORDER BY "name"',
    );
    const recorded = new Map(rows.map((r) => [r.name, r.checksum]));
    const known = new Set(migrations.map((m) => m.name));
    for (const name of recorded.keys()) {
      if (!known.has(name)) {
        throw new MigrationError(
          `database has migration "${name}" that this build does not know: refusing to start an older registrar on a newer database`,
        );
      }
    }
    const result: MigrationResult = { applied: [], alreadyApplied: [] };
    for (const m of migrations) {
      const checksum = recorded.get(m.name);
      if (checksum !== undefined) {
        if (checksum !== m.checksum) {
          throw new MigrationError(
            `migration "${m.name}" was changed after it was applied (checksum mismatch); add a new migration instead`,
          );
        }
        result.alreadyApplied.push(m.name);
        continue;
      }
      // Savepoint-free: one failing migration aborts the whole boot transaction, so the
      // database is left exactly as it was.
      try {
        await tx.exec(m.sql);
      } catch (error) {
        throw new MigrationError(`migration "${m.name}" failed: ${(error as Error).message}`);
      }
      await tx.query('INSERT INTO "_peerfetch_migrations" ("name", "checksum") VALUES ($1, $2)', [
        m.name,
        m.checksum,
      ]);
      result.applied.push(m.name);
    }
    return result;
  });
}
