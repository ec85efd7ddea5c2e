import { PrismaClient } from '../generated/prisma/client.js';
import type { SqlDriver } from './sql-driver.js';

export type Db = InstanceType<typeof PrismaClient>;

export function createPrismaClient(driver: SqlDriver): Db {
  return new PrismaClient({ adapter: driver.prismaAdapter() });
}

/** Postgres unique violation, as Prisma reports it. */
export function isUniqueViolation(error: unknown): boolean {
  return (error as { code?: unknown } | null)?.code === 'P2002';
}

/** "Record to update/delete not found", as Prisma reports it. */
export function isNotFound(error: unknown): boolean {
  return (error as { code?: unknown } | null)?.code === 'P2025';
}
