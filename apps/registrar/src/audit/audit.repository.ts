import { Inject, Injectable } from '@nestjs/common';
import { PRISMA, SQL_DRIVER } from '../database/database.tokens.js';
import type { Db } from '../database/prisma.js';
import type { SqlDriver } from '../database/sql-driver.js';
import type { Prisma } from '../generated/prisma/client.js';
import type { AuditEntry, AuditEventView, AuditQuery } from './audit.types.js';

@Injectable()
export class AuditRepository {
  constructor(
    @Inject(PRISMA) private readonly db: Db,
    @Inject(SQL_DRIVER) private readonly sql: SqlDriver,
  ) {}

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

  /**
   * One multi-row INSERT, in order (ids follow the array order); `ts` is when the event
   * happened (not when written). Plain SQL: the batch is written every 100 ms under load,
   * and Prisma's createMany compiles every row.
   */
  async insertMany(entries: (AuditEntry & { ts?: Date })[]): Promise<void> {
    if (entries.length === 0) return;
    await this.sql.query(
      `INSERT INTO audit_events
              (ts, org_id, actor_type, actor_id, action, target_type, target_id, details, source_ip)
       SELECT COALESCE(e.ts, now()), e.org_id, e.actor_type, e.actor_id, e.action,
              e.target_type, e.target_id, e.details::jsonb, e.source_ip
         FROM unnest($1::timestamptz[], $2::uuid[], $3::text[], $4::text[], $5::text[],
                     $6::text[], $7::text[], $8::text[], $9::text[])
              WITH ORDINALITY
              AS e(ts, org_id, actor_type, actor_id, action, target_type, target_id, details,
                   source_ip, n)
        ORDER BY e.n`,
      [
        entries.map((e) => e.ts ?? null),
        entries.map((e) => e.orgId),
        entries.map((e) => e.actorType),
        entries.map((e) => e.actorId),
        entries.map((e) => e.action),
        entries.map((e) => e.targetType ?? null),
        entries.map((e) => e.targetId ?? null),
        entries.map((e) => JSON.stringify(e.details ?? {})),
        entries.map((e) => e.sourceIp),
      ],
    );
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
