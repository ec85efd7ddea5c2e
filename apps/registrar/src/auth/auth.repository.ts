import { Inject, Injectable } from '@nestjs/common';
import { PRISMA, SQL_DRIVER } from '../database/database.tokens.js';
import type { Db } from '../database/prisma.js';
import type { SqlDriver } from '../database/sql-driver.js';
import type { MembershipRecord, SessionRecord, UserRecord } from './auth.types.js';

@Injectable()
export class AuthRepository {
  constructor(
    @Inject(PRISMA) private readonly db: Db,
    @Inject(SQL_DRIVER) private readonly sql: SqlDriver,
  ) {}

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

  /**
   * A session with its user and the user's role in the session's org, in one round trip
   * (read on every authenticated request and WebSocket upgrade: plain SQL, no Prisma).
   */
  async findSession(tokenHash: string): Promise<SessionRecord | null> {
    const rows = await this.sql.query<{
      token_hash: string;
      user_id: string;
      org_id: string;
      expires_at: Date;
      role: string | null;
      email: string;
      name: string;
      disabled: boolean;
    }>(
      `SELECT s.token_hash, s.user_id::text AS user_id, s.org_id::text AS org_id, s.expires_at,
              m.role::text AS role, u.email, u.name, (u.disabled_at IS NOT NULL) AS disabled
         FROM user_sessions s
         JOIN users u ON u.id = s.user_id
         LEFT JOIN memberships m ON m.org_id = s.org_id AND m.user_id = s.user_id
        WHERE s.token_hash = $1`,
      [tokenHash],
    );
    const s = rows[0];
    if (!s) return null;
    return {
      tokenHash: s.token_hash,
      userId: s.user_id,
      orgId: s.org_id,
      expiresAt: new Date(s.expires_at),
      role: s.role === 'owner' || s.role === 'admin' || s.role === 'member' ? s.role : null,
      email: s.email,
      name: s.name,
      userDisabled: s.disabled,
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
