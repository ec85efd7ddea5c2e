import { Inject, Injectable } from '@nestjs/common';
import { PRISMA } from '../database/database.tokens.js';
import type { Db } from '../database/prisma.js';
import type { MembershipRecord, SessionRecord, UserRecord } from './auth.types.js';

@Injectable()
export class AuthRepository {
  constructor(@Inject(PRISMA) private readonly db: Db) {}

  findUserByEmail(email: string): Promise<UserRecord | null> {
    return this.db.user.findUnique({
      where: { email },
      select: { id: true, email: true, name: true, passwordHash: true, disabledAt: true },
    });
  }

  async memberships(userId: string): Promise<MembershipRecord[]> {
    const rows = await this.db.membership.findMany({
      where: { userId },
      include: { org: { select: { name: true } } },
      orderBy: { createdAt: 'asc' },
    });
    return rows.map((r) => ({ orgId: r.orgId, orgName: r.org.name, role: r.role }));
  }

  async createSession(s: {
    tokenHash: string;
    userId: string;
    orgId: string;
    expiresAt: Date;
    sourceIp: string | null;
    userAgent: string | null;
  }): Promise<void> {
    await this.db.userSession.create({ data: s });
  }

  async findSession(tokenHash: string): Promise<SessionRecord | null> {
    const s = await this.db.userSession.findUnique({
      where: { tokenHash },
      include: { user: { select: { email: true, name: true, disabledAt: true } } },
    });
    if (!s) return null;
    const membership = await this.db.membership.findUnique({
      where: { orgId_userId: { orgId: s.orgId, userId: s.userId } },
      select: { role: true },
    });
    return {
      tokenHash: s.tokenHash,
      userId: s.userId,
      orgId: s.orgId,
      expiresAt: s.expiresAt,
      role: membership?.role ?? null,
      email: s.user.email,
      name: s.user.name,
      userDisabled: s.user.disabledAt !== null,
    };
  }

  async passwordHash(userId: string): Promise<string | null> {
    return (
      (await this.db.user.findUnique({ where: { id: userId }, select: { passwordHash: true } }))
        ?.passwordHash ?? null
    );
  }

  /** Sets a new password hash and ends every other session of the user. */
  async changePassword(userId: string, passwordHash: string, keepSession: string): Promise<void> {
    await this.db.$transaction([
      this.db.user.update({ where: { id: userId }, data: { passwordHash } }),
      this.db.userSession.deleteMany({ where: { userId, tokenHash: { not: keepSession } } }),
    ]);
  }

  async deleteSession(tokenHash: string): Promise<void> {
    await this.db.userSession.deleteMany({ where: { tokenHash } });
  }

  async deleteExpiredSessions(now: Date): Promise<number> {
    return (await this.db.userSession.deleteMany({ where: { expiresAt: { lt: now } } })).count;
  }
}
