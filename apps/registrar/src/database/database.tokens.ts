export const PRISMA = Symbol('PrismaClient');
export const SQL_DRIVER = Symbol('SqlDriver');
