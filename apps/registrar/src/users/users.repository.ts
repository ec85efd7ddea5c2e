import { Inject, Injectable } from '@nestjs/common';
import type { MemberRole } from '../auth/auth.types.js';
import { PRISMA } from '../database/database.tokens.js';
import type { Db } from '../database/prisma.js';
import type { OrgUserView } from './users.types.js';

function memberView(r: {
  userId: string;
  role: MemberRole;
  createdAt: Date;
  user: { email: string; name: string };
}): OrgUserView {
  return {
    id: r.userId,
    email: r.user.email,
    name: r.user.name,
    role: r.role,
    createdAt: r.createdAt.toISOString(),
  };
}

@Injectable()
export class UsersRepository {
  constructor(@Inject(PRISMA) private readonly db: Db) {}

  countUsers(): Promise<number> {
    return this.db.user.count();
  }

  /** Creates an organization with its first owner, atomically. */
  async createOrgWithOwner(input: {
    orgName: string;
    email: string;
    name: string;
    passwordHash: string;
  }): Promise<{ orgId: string; userId: string }> {
    return this.db.$transaction(async (tx) => {
      const org = await tx.organization.create({ data: { name: input.orgName } });
      const user = await tx.user.create({
        data: { email: input.email, name: input.name, passwordHash: input.passwordHash },
      });
      await tx.membership.create({ data: { orgId: org.id, userId: user.id, role: 'owner' } });
      return { orgId: org.id, userId: user.id };
    });
  }

  /** Adds a user to an org: creates the user if the e-mail is new. */
  async addMember(input: {
    orgId: string;
    email: string;
    name: string;
    passwordHash: string;
    role: MemberRole;
  }): Promise<OrgUserView> {
    return this.db.$transaction(async (tx) => {
      const user =
        (await tx.user.findUnique({ where: { email: input.email } })) ??
        (await tx.user.create({
          data: { email: input.email, name: input.name, passwordHash: input.passwordHash },
        }));
      const m = await tx.membership.create({
        data: { orgId: input.orgId, userId: user.id, role: input.role },
      });
      return {
        id: user.id,
        email: user.email,
        name: user.name,
        role: m.role,
        createdAt: m.createdAt.toISOString(),
      };
    });
  }

  async listMembers(orgId: string): Promise<OrgUserView[]> {
    const rows = await this.db.membership.findMany({
      where: { orgId },
      include: { user: { select: { email: true, name: true } } },
      orderBy: { createdAt: 'asc' },
    });
    return rows.map(memberView);
  }

  /**
   * Changes a member's role, or removes the member (their group memberships and grants go
   * with the membership; their login sessions in this org are deleted). Runs under a lock
   * on the organization's row, so membership changes in one org are serialized: `check`
   * (which throws to refuse) sees the member and the actor's role as they are now, not as
   * they were when the request was authenticated: of two owners demoting each other at
   * once, the second finds it is no longer one. Returns the member before and after (null
   * after a removal), or null when there is no such member.
   */
  async changeMember(
    orgId: string,
    actorId: string,
    userId: string,
    change: { role: MemberRole } | { remove: true },
    check: (current: OrgUserView, now: { actorRole: MemberRole | null }) => void,
  ): Promise<{ before: OrgUserView; after: OrgUserView | null } | null> {
    return this.db.$transaction(async (tx) => {
      await tx.$queryRaw`SELECT id FROM organizations WHERE id = ${orgId}::uuid FOR UPDATE`;
      const row = await tx.membership.findUnique({
        where: { orgId_userId: { orgId, userId } },
        include: { user: { select: { email: true, name: true } } },
      });
      if (!row) return null;
      const before = memberView(row);
      const actor = await tx.membership.findUnique({
        where: { orgId_userId: { orgId, userId: actorId } },
        select: { role: true },
      });
      check(before, { actorRole: actor?.role ?? null });
      let after: OrgUserView | null = null;
      if ('remove' in change) {
        await tx.userSession.deleteMany({ where: { orgId, userId } });
        await tx.membership.delete({ where: { orgId_userId: { orgId, userId } } });
      } else {
        await tx.membership.update({
          where: { orgId_userId: { orgId, userId } },
          data: { role: change.role },
        });
        after = { ...before, role: change.role };
      }
      return { before, after };
    });
  }

  async isMember(orgId: string, userId: string): Promise<boolean> {
    return (await this.db.membership.count({ where: { orgId, userId } })) > 0;
  }
}
