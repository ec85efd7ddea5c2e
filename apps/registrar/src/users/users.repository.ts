import { Inject, Injectable } from '@nestjs/common';
import type { MemberRole } from '../auth/auth.types.js';
import { PRISMA } from '../database/database.tokens.js';
import type { Db } from '../database/prisma.js';
import type { OrgUserView } from './users.types.js';

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
    return rows.map((r) => ({
      id: r.userId,
      email: r.user.email,
      name: r.user.name,
      role: r.role,
      createdAt: r.createdAt.toISOString(),
    }));
  }

  async isMember(orgId: string, userId: string): Promise<boolean> {
    return (await this.db.membership.count({ where: { orgId, userId } })) > 0;
  }
}
