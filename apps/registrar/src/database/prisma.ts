import { PrismaClient } from '../generated/prisma/client.js';
import type { SqlDriver } from './sql-driver.js';

export type Db = InstanceType<typeof PrismaClient>;

/**
 * The app's Prisma client. `onQuery` is called once per SQL statement sent to the database
 * (exported as `registrar_db_queries_total`: database round trips per signaling).
 */
export function createPrismaClient(driver: SqlDriver, onQuery?: () => void): Db {
  if (!onQuery) return new PrismaClient({ adapter: driver.prismaAdapter() });
  const client = new PrismaClient({
    adapter: driver.prismaAdapter(),
    log: [{ emit: 'event', level: 'query' }],
  });
  client.$on('query', () => onQuery());
  return client;
}

/** Postgres unique violation, as Prisma reports it. */
export function isUniqueViolation(error: unknown): boolean {
  return (error as { code?: unknown } | null)?.code === 'P2002';
}

/** "Record to update/delete not found", as Prisma reports it. */
export function isNotFound(error: unknown): boolean {
  return (error as { code?: unknown } | null)?.code === 'P2025';
}

/** Foreign key violation (the referenced row is gone), as Prisma reports it. */
export function isForeignKeyViolation(error: unknown): boolean {
  return (error as { code?: unknown } | null)?.code === 'P2003';
}
