import { Inject, Injectable } from '@nestjs/common';
import { PRISMA } from '../database/database.tokens.js';
import type { Db } from '../database/prisma.js';
import type { Grant } from '../generated/prisma/client.js';
import type { GrantRole, GrantView, NewGrant } from './grants.types.js';

function view(g: Grant): GrantView {
  return {
    id: g.id,
    orgId: g.orgId,
    subjectType: g.subjectType,
    userId: g.userId,
    groupId: g.groupId,
    deviceId: g.deviceId,
    deviceTag: g.deviceTag,
    role: g.role,
    createdBy: g.createdBy,
    createdAt: g.createdAt.toISOString(),
  };
}

@Injectable()
export class GrantsRepository {
  constructor(@Inject(PRISMA) private readonly db: Db) {}

  async create(g: NewGrant): Promise<GrantView> {
    return view(await this.db.grant.create({ data: g }));
  }

  async list(
    orgId: string,
    f: { userId?: string | undefined; deviceId?: string | undefined },
  ): Promise<GrantView[]> {
    const rows = await this.db.grant.findMany({
      where: {
        orgId,
        ...(f.userId ? { userId: f.userId } : {}),
        ...(f.deviceId ? { deviceId: f.deviceId } : {}),
      },
      orderBy: { createdAt: 'asc' },
    });
    return rows.map(view);
  }

  async get(orgId: string, id: string): Promise<GrantView | null> {
    const g = await this.db.grant.findUnique({ where: { orgId_id: { orgId, id } } });
    return g ? view(g) : null;
  }

  async updateRole(orgId: string, id: string, role: GrantRole): Promise<GrantView | null> {
    const r = await this.db.grant.updateMany({ where: { orgId, id }, data: { role } });
    return r.count === 0 ? null : this.get(orgId, id);
  }

  async delete(orgId: string, id: string): Promise<boolean> {
    return (await this.db.grant.deleteMany({ where: { orgId, id } })).count > 0;
  }

  /** Every grant that applies to a user: direct ones and those of the user's groups. */
  async grantsOfUser(orgId: string, userId: string): Promise<GrantView[]> {
    const groups = await this.db.groupMember.findMany({
      where: { orgId, userId },
      select: { groupId: true },
    });
    const rows = await this.db.grant.findMany({
      where: {
        orgId,
        OR: [{ userId }, { groupId: { in: groups.map((g) => g.groupId) } }],
      },
    });
    return rows.map(view);
  }

  async groupExists(orgId: string, id: string): Promise<boolean> {
    return (await this.db.group.count({ where: { orgId, id } })) > 0;
  }

  async memberExists(orgId: string, userId: string): Promise<boolean> {
    return (await this.db.membership.count({ where: { orgId, userId } })) > 0;
  }

  async deviceExists(orgId: string, id: string): Promise<boolean> {
    return (await this.db.device.count({ where: { orgId, id } })) > 0;
  }
}
