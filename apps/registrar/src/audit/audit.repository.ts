import { Inject, Injectable } from '@nestjs/common';
import { PRISMA } from '../database/database.tokens.js';
import type { Db } from '../database/prisma.js';
import type { Prisma } from '../generated/prisma/client.js';
import type { AuditEntry, AuditEventView, AuditQuery } from './audit.types.js';

@Injectable()
export class AuditRepository {
  constructor(@Inject(PRISMA) private readonly db: Db) {}

  async insert(entry: AuditEntry): Promise<void> {
    await this.db.auditEvent.create({
      data: {
        orgId: entry.orgId,
        actorType: entry.actorType,
        actorId: entry.actorId,
        action: entry.action,
        targetType: entry.targetType ?? null,
        targetId: entry.targetId ?? null,
        details: (entry.details ?? {}) as Prisma.InputJsonObject,
        sourceIp: entry.sourceIp,
      },
    });
  }

  /** One multi-row INSERT, in order; `ts` is when the event happened (not when written). */
  async insertMany(entries: (AuditEntry & { ts?: Date })[]): Promise<void> {
    await this.db.auditEvent.createMany({
      data: entries.map((entry) => ({
        ...(entry.ts ? { ts: entry.ts } : {}),
        orgId: entry.orgId,
        actorType: entry.actorType,
        actorId: entry.actorId,
        action: entry.action,
        targetType: entry.targetType ?? null,
        targetId: entry.targetId ?? null,
        details: (entry.details ?? {}) as Prisma.InputJsonObject,
        sourceIp: entry.sourceIp,
      })),
    });
  }

  async query(q: AuditQuery): Promise<AuditEventView[]> {
    const rows = await this.db.auditEvent.findMany({
      where: {
        orgId: q.orgId,
        ...(q.action ? { action: q.action } : {}),
        ...(q.actorId ? { actorId: q.actorId } : {}),
        ...(q.targetId ? { targetId: q.targetId } : {}),
        ...(q.since || q.until
          ? { ts: { ...(q.since ? { gte: q.since } : {}), ...(q.until ? { lt: q.until } : {}) } }
          : {}),
        ...(q.before !== undefined ? { id: { lt: q.before } } : {}),
      },
      orderBy: { id: 'desc' },
      take: q.limit,
    });
    return rows.map((r) => ({
      id: r.id.toString(),
      ts: r.ts.toISOString(),
      actorType: r.actorType,
      actorId: r.actorId,
      action: r.action,
      targetType: r.targetType,
      targetId: r.targetId,
      details: r.details,
      sourceIp: r.sourceIp,
    }));
  }
}
