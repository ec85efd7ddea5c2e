import { Inject, Injectable } from '@nestjs/common';
import { PRISMA, SQL_DRIVER } from '../database/database.tokens.js';
import { AUTHZ_CACHE_TTL_MS, TtlCache } from '../common/ttl-cache.js';
import type { Db } from '../database/prisma.js';
import type { SqlDriver } from '../database/sql-driver.js';
import type { Device } from '../generated/prisma/client.js';
import type { DeviceAuthzTarget, DeviceFilter, DeviceView } from './devices.types.js';

function view(d: Device): DeviceView {
  return {
    id: d.id,
    orgId: d.orgId,
    name: d.name,
    tags: d.tags,
    publicKey: d.publicKeyJwk,
    keyFingerprint: d.keyFingerprint,
    agentVersion: d.agentVersion,
    status: d.status,
    lastSeenAt: d.lastSeenAt?.toISOString() ?? null,
    metrics: d.metrics,
    revokedAt: d.revokedAt?.toISOString() ?? null,
    createdAt: d.createdAt.toISOString(),
    updatedAt: d.updatedAt.toISOString(),
  };
}

@Injectable()
export class DevicesRepository {
  private readonly authzCache = new TtlCache<DeviceAuthzTarget>(AUTHZ_CACHE_TTL_MS, 50_000);

  constructor(
    @Inject(PRISMA) private readonly db: Db,
    @Inject(SQL_DRIVER) private readonly sql: SqlDriver,
  ) {}

  async list(f: DeviceFilter): Promise<{ items: DeviceView[]; total: number }> {
    const where = {
      orgId: f.orgId,
      ...(f.tag ? { tags: { has: f.tag } } : {}),
      ...(f.status ? { status: f.status } : {}),
      ...(f.search
        ? {
            OR: [
              { name: { contains: f.search, mode: 'insensitive' as const } },
              { keyFingerprint: { startsWith: f.search } },
            ],
          }
        : {}),
      ...(f.visibleTo
        ? {
            AND: [
              {
                OR: [
                  { id: { in: f.visibleTo.deviceIds } },
                  { tags: { hasSome: f.visibleTo.tags } },
                ],
              },
            ],
          }
        : {}),
    };
    const [rows, total] = await Promise.all([
      this.db.device.findMany({
        where,
        orderBy: [{ name: 'asc' }, { id: 'asc' }],
        take: f.limit,
        skip: f.offset,
      }),
      this.db.device.count({ where }),
    ]);
    return { items: rows.map(view), total };
  }

  /**
   * What authorization needs of a device (id, tags, status), cached for signaling: every
   * write below drops the entry on this replica; other replicas' writes (a revocation, a
   * re-tag) apply within AUTHZ_CACHE_TTL_MS. Plain SQL (read by every session request).
   */
  async authzTarget(orgId: string, id: string): Promise<DeviceAuthzTarget | null> {
    return this.authzCache.getOrLoad(`${orgId}/${id}`, async () => {
      const rows = await this.sql.query<{ id: string; tags: string[]; status: string }>(
        `SELECT id::text AS id, tags, status::text AS status
           FROM devices WHERE org_id = $1::uuid AND id = $2::uuid`,
        [orgId, id],
      );
      const d = rows[0];
      return d ? { id: d.id, tags: d.tags, status: d.status as DeviceAuthzTarget['status'] } : null;
    });
  }

  async get(orgId: string, id: string): Promise<DeviceView | null> {
    const d = await this.db.device.findUnique({ where: { orgId_id: { orgId, id } } });
    return d ? view(d) : null;
  }

  async update(
    orgId: string,
    id: string,
    patch: { name?: string; tags?: string[] },
  ): Promise<DeviceView | null> {
    const r = await this.db.device.updateMany({ where: { orgId, id }, data: patch });
    this.authzCache.delete(`${orgId}/${id}`);
    return r.count === 0 ? null : this.get(orgId, id);
  }

  /** Marks the device revoked, drops its MQTT credential and blocks its key everywhere. */
  async revokeKey(
    orgId: string,
    id: string,
    by: { userId: string; reason: string | null },
  ): Promise<DeviceView | null> {
    this.authzCache.delete(`${orgId}/${id}`);
    const revoked = await this.db.$transaction(async (tx) => {
      const d = await tx.device.findUnique({ where: { orgId_id: { orgId, id } } });
      if (!d) return null;
      await tx.revokedKey.upsert({
        where: { keyFingerprint: d.keyFingerprint },
        create: {
          keyFingerprint: d.keyFingerprint,
          orgId,
          deviceId: id,
          reason: by.reason,
          revokedBy: by.userId,
        },
        update: {},
      });
      const updated = await tx.device.update({
        where: { orgId_id: { orgId, id } },
        data: { status: 'revoked', revokedAt: new Date(), mqttPasswordHash: null },
      });
      return view(updated);
    });
    this.authzCache.delete(`${orgId}/${id}`);
    return revoked;
  }

  // --- Device-authenticated paths (MQTT). The device id comes from the broker-verified
  // identity (username = device id = client id), which is globally unique.

  /** The MQTT credential of a device; null if unknown, revoked or without credential. */
  async mqttCredential(id: string): Promise<{ passwordHash: string } | null> {
    const d = await this.db.device.findUnique({
      where: { id },
      select: { mqttPasswordHash: true, status: true },
    });
    if (!d || d.status === 'revoked' || !d.mqttPasswordHash) return null;
    return { passwordHash: d.mqttPasswordHash };
  }

  /** The organization of a device that is not revoked. */
  async orgOfActive(id: string): Promise<string | null> {
    const d = await this.db.device.findUnique({
      where: { id },
      select: { orgId: true, status: true },
    });
    return d && d.status !== 'revoked' ? d.orgId : null;
  }

  /**
   * Records a status message; a revoked device stays revoked. Returns the org, or null if
   * ignored. `at` undefined keeps last_seen_at (the registrar's own presence-timeout
   * message: nobody was seen).
   */
  async updatePresence(
    id: string,
    p: { status: 'online' | 'offline'; at?: Date | undefined; agentVersion?: string | undefined },
  ): Promise<{ orgId: string } | null> {
    // One round trip (UPDATE … RETURNING): presence storms (10,000 agents reconnecting after
    // a broker restart) cost one statement per agent.
    const rows = await this.db.$queryRaw<{ org_id: string }[]>`
      UPDATE devices
         SET status = ${p.status}::"DeviceStatus",
             last_seen_at = COALESCE(${p.at ?? null}::timestamptz, last_seen_at),
             agent_version = COALESCE(${p.agentVersion ?? null}::text, agent_version),
             updated_at = now()
       WHERE id = ${id}::uuid AND status <> 'revoked'
   RETURNING org_id::text AS org_id`;
    const orgId = rows[0]?.org_id;
    return orgId ? { orgId } : null;
  }

  /**
   * Stores a heartbeat as the metrics snapshot. A heartbeat means the device is connected:
   * one marked offline by the presence timeout (or whose status message was lost) is online
   * again, and `cameOnline` says so (one statement either way).
   */
  async updateHeartbeat(
    id: string,
    h: { metrics: Record<string, number | string>; at: Date; agentVersion?: string | undefined },
  ): Promise<{ orgId: string; cameOnline: boolean } | null> {
    const rows = await this.db.$queryRaw<{ org_id: string; came_online: boolean }[]>`
      UPDATE devices d
         SET metrics = ${JSON.stringify(h.metrics)}::jsonb,
             last_seen_at = ${h.at},
             agent_version = COALESCE(${h.agentVersion ?? null}::text, d.agent_version),
             status = 'online',
             updated_at = now()
        FROM (SELECT id, status FROM devices WHERE id = ${id}::uuid FOR UPDATE) before
       WHERE d.id = before.id AND before.status <> 'revoked'
   RETURNING d.org_id::text AS org_id, before.status = 'offline' AS came_online`;
    const row = rows[0];
    return row ? { orgId: row.org_id, cameOnline: row.came_online } : null;
  }

  /**
   * Marks offline every device still online but silent for `heartbeats` of its heartbeat
   * intervals (the `heartbeatS` its heartbeats announce, else `defaultHeartbeatS`) plus
   * `graceMs`, measured from `now`. Silence counts only from `listeningSince` (when the
   * sweeping replica's broker connection began: before it, nothing could be heard).
   * Atomic: with several replicas sweeping, each device is returned to one of them.
   */
  async markSilentOffline(opts: {
    now: Date;
    listeningSince: Date;
    heartbeats: number;
    graceMs: number;
    defaultHeartbeatS: number;
  }): Promise<Array<{ deviceId: string; orgId: string }>> {
    const rows = await this.db.$queryRaw<{ id: string; org_id: string }[]>`
      UPDATE devices
         SET status = 'offline', updated_at = now()
       WHERE status = 'online'
         AND GREATEST(last_seen_at, ${opts.listeningSince}::timestamptz)
             < ${opts.now}::timestamptz - make_interval(
               secs => ${opts.heartbeats}::int * (CASE
                 WHEN jsonb_typeof(metrics -> 'heartbeatS') = 'number'
                 THEN LEAST(GREATEST((metrics ->> 'heartbeatS')::numeric, 1), 86400)
                 ELSE ${opts.defaultHeartbeatS}::int END)::double precision
               + ${opts.graceMs / 1000}::double precision)
   RETURNING id::text AS id, org_id::text AS org_id`;
    return rows.map((r) => ({ deviceId: r.id, orgId: r.org_id }));
  }

  /** Which of these devices exist (any org), each with whether it is revoked. */
  async revokedFlags(ids: string[]): Promise<Map<string, boolean>> {
    if (ids.length === 0) return new Map();
    const rows = await this.db.device.findMany({
      where: { id: { in: ids } },
      select: { id: true, status: true },
    });
    return new Map(rows.map((r) => [r.id, r.status === 'revoked']));
  }

  /** How many devices that are not revoked are none of these (any org). */
  async countActiveExcept(ids: string[]): Promise<number> {
    return this.db.device.count({ where: { status: { not: 'revoked' }, id: { notIn: ids } } });
  }

  async delete(orgId: string, id: string): Promise<boolean> {
    const deleted = (await this.db.device.deleteMany({ where: { orgId, id } })).count > 0;
    this.authzCache.delete(`${orgId}/${id}`);
    return deleted;
  }
}
