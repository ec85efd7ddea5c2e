import { Inject, Injectable } from '@nestjs/common';
import { PRISMA } from '../database/database.tokens.js';
import { type Db, isForeignKeyViolation } from '../database/prisma.js';
import type { GroupView, MemberChange } from './groups.types.js';

const withMembers = { members: { select: { userId: true }, orderBy: { userId: 'asc' } } } as const;

function view(g: {
  id: string;
  name: string;
  createdAt: Date;
  members: { userId: string }[];
}): GroupView {
  const memberIds = g.members.map((m) => m.userId);
  return {
    id: g.id,
    name: g.name,
    createdAt: g.createdAt.toISOString(),
    memberIds,
    memberCount: memberIds.length,
  };
}

@Injectable()
export class GroupsRepository {
  constructor(@Inject(PRISMA) private readonly db: Db) {}

  async create(orgId: string, name: string): Promise<GroupView> {
    return view(await this.db.group.create({ data: { orgId, name }, include: withMembers }));
  }

  /** Groups of the org by name; with `memberId`, only the groups that user is in. */
  async list(orgId: string, memberId?: string): Promise<GroupView[]> {
    const rows = await this.db.group.findMany({
      where: { orgId, ...(memberId ? { members: { some: { userId: memberId } } } : {}) },
      include: withMembers,
      orderBy: { name: 'asc' },
      take: 500,
    });
    return rows.map(view);
  }

  async get(orgId: string, id: string): Promise<GroupView | null> {
    const g = await this.db.group.findUnique({
      where: { orgId_id: { orgId, id } },
      include: withMembers,
    });
    return g ? view(g) : null;
  }

  /** Renames a group; returns its previous name and the group (null: no such group). */
  async rename(
    orgId: string,
    id: string,
    name: string,
  ): Promise<{ from: string; group: GroupView } | null> {
    return this.db.$transaction(async (tx) => {
      const before = await tx.group.findUnique({
        where: { orgId_id: { orgId, id } },
        select: { name: true },
      });
      if (!before) return null;
      const g = await tx.group.update({
        where: { orgId_id: { orgId, id } },
        data: { name },
        include: withMembers,
      });
      return { from: before.name, group: view(g) };
    });
  }

  /**
   * Deletes a group; its memberships and grants go with it (ON DELETE CASCADE). Returns what
   * was removed, for the audit log (null: no such group).
   */
  async delete(
    orgId: string,
    id: string,
  ): Promise<{ name: string; memberCount: number; grantIds: string[] } | null> {
    return this.db.$transaction(async (tx) => {
      const g = await tx.group.findUnique({
        where: { orgId_id: { orgId, id } },
        select: { name: true, _count: { select: { members: true } } },
      });
      if (!g) return null;
      const grants = await tx.grant.findMany({
        where: { orgId, groupId: id },
        select: { id: true },
      });
      await tx.group.delete({ where: { orgId_id: { orgId, id } } });
      return { name: g.name, memberCount: g._count.members, grantIds: grants.map((x) => x.id) };
    });
  }

  /**
   * Adds a member of the org to a group; already in it is no change. Null: no such group
   * (also when it is deleted meanwhile: the composite foreign key refuses the row).
   */
  async addMember(orgId: string, groupId: string, userId: string): Promise<MemberChange | null> {
    if (!(await this.exists(orgId, groupId))) return null;
    let added: number;
    try {
      const r = await this.db.groupMember.createMany({
        data: [{ orgId, groupId, userId }],
        skipDuplicates: true,
      });
      added = r.count;
    } catch (error) {
      if (isForeignKeyViolation(error)) return null;
      throw error;
    }
    const group = await this.get(orgId, groupId);
    return group ? { group, changed: added > 0 } : null;
  }

  async removeMember(orgId: string, groupId: string, userId: string): Promise<MemberChange | null> {
    const r = await this.db.groupMember.deleteMany({ where: { orgId, groupId, userId } });
    const group = await this.get(orgId, groupId);
    return group ? { group, changed: r.count > 0 } : null;
  }

  async exists(orgId: string, id: string): Promise<boolean> {
    return (await this.db.group.count({ where: { orgId, id } })) > 0;
  }

  async memberOfOrg(orgId: string, userId: string): Promise<boolean> {
    return (await this.db.membership.count({ where: { orgId, userId } })) > 0;
  }
}
