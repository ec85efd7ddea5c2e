// The raw SQL connection under Prisma: node-postgres for a real PostgreSQL, PGlite for the
// embedded default. The migration runner uses it directly (multi-statement SQL files), and
// so do the repositories' hot paths (read or written on every signaling: sessions, device
// authorization, the audit batch), where Prisma's query compiler costs several times the
// statement; everything else goes through Prisma (repositories only).
import { mkdirSync } from 'node:fs';
import { PGlite } from '@electric-sql/pglite';
import { PrismaPg } from '@prisma/adapter-pg';
import pg from 'pg';
import { PrismaPGlite } from 'pglite-prisma-adapter';
import type { Prisma } from '../generated/prisma/client.js';

export type PrismaAdapter = NonNullable<Prisma.PrismaClientOptions['adapter']>;

export interface SqlTx {
  /** Runs one or more statements without parameters (simple query protocol). */
  exec(sql: string): Promise<void>;
  query<T = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<T[]>;
}

export interface SqlDriver {
  readonly kind: 'postgresql' | 'pglite';
  /** Runs `fn` in one transaction on one connection; rolls back if it throws. */
  transaction<T>(fn: (tx: SqlTx) => Promise<T>): Promise<T>;
  query<T = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<T[]>;
  /** Called once per `query` (with Prisma's, `registrar_db_queries_total`). */
  onQuery: () => void;
  /** The Prisma driver adapter over the same database. */
  prismaAdapter(): PrismaAdapter;
  close(): Promise<void>;
}

class PgDriver implements SqlDriver {
  readonly kind = 'postgresql';
  onQuery: () => void = () => undefined;
  private readonly pool: pg.Pool;

  constructor(private readonly url: string) {
    this.pool = new pg.Pool({ connectionString: url, max: 10 });
    // An idle client's error (e.g. the server restarted) must not crash the process.
    this.pool.on('error', () => undefined);
  }

  async transaction<T>(fn: (tx: SqlTx) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      const result = await fn({
        exec: async (sql) => {
          await client.query(sql);
        },
        query: async <R>(sql: string, params?: unknown[]) =>
          (await client.query(sql, params)).rows as R[],
      });
      await client.query('COMMIT');
      return result;
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    } finally {
      client.release();
    }
  }

  async query<T>(sql: string, params?: unknown[]): Promise<T[]> {
    this.onQuery();
    return (await this.pool.query(sql, params)).rows as T[];
  }

  prismaAdapter(): PrismaAdapter {
    return new PrismaPg({ connectionString: this.url, max: 10 });
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}

class PgliteDriver implements SqlDriver {
  readonly kind = 'pglite';
  onQuery: () => void = () => undefined;
  constructor(private readonly db: PGlite) {}

  transaction<T>(fn: (tx: SqlTx) => Promise<T>): Promise<T> {
    return this.db.transaction((t) =>
      fn({
        exec: async (sql) => {
          await t.exec(sql);
        },
        query: async <R>(sql: string, params?: unknown[]) => (await t.query<R>(sql, params)).rows,
      }),
    );
  }

  async query<T>(sql: string, params?: unknown[]): Promise<T[]> {
    this.onQuery();
    return (await this.db.query<T>(sql, params)).rows;
  }

  prismaAdapter(): PrismaAdapter {
    // pglite-prisma-adapter 0.6 is typed against @prisma/driver-adapter-utils 6.10; the
    // runtime contract is the same in 6.19 (covered by the PGlite smoke test).
    return new PrismaPGlite(this.db) as unknown as PrismaAdapter;
  }

  async close(): Promise<void> {
    if (!this.db.closed) await this.db.close();
  }
}

/** PostgreSQL when a URL is given, else PGlite persisted in `pgliteDir` ('memory://' ok). */
export async function openSqlDriver(opts: {
  databaseUrl?: string | undefined;
  pgliteDir: string;
}): Promise<SqlDriver> {
  if (opts.databaseUrl) {
    const driver = new PgDriver(opts.databaseUrl);
    await driver.query('SELECT 1'); // fail fast at boot when the server is unreachable
    return driver;
  }
  if (!opts.pgliteDir.startsWith('memory://'))
    mkdirSync(opts.pgliteDir, { recursive: true, mode: 0o700 });
  const db = await PGlite.create(opts.pgliteDir);
  return new PgliteDriver(db);
}
