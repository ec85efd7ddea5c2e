import { Inject, Injectable } from '@nestjs/common';
import { AuditService } from '../audit/audit.service.js';
import { DomainError, ErrorCode } from '../common/errors.js';
import { randomSecret, sha256Hex } from '../common/secrets.js';
import { CONFIG, type RegistrarConfig } from '../config/config.js';
import { AuthRepository } from './auth.repository.js';
import type { MembershipRecord, Principal } from './auth.types.js';
import { dummyHash, hashPassword, verifyPassword } from './password.js';

export interface LoginResult {
  token: string;
  expiresAt: Date;
  principal: Principal;
  memberships: MembershipRecord[];
}

const invalidCredentials = () =>
  new DomainError(ErrorCode.INVALID_CREDENTIALS, 'invalid e-mail or password');

/**
 * Login sessions that just ended: one; every session of a user but one (password change);
 * or every session of a user in one organization (removed from it).
 */
export type EndedSessions =
  { sessionHash: string } | { userId: string; except: string } | { userId: string; orgId: string };

@Injectable()
export class AuthService {
  private readonly sessionsEnded: ((ended: EndedSessions) => void)[] = [];

  constructor(
    private readonly repo: AuthRepository,
    private readonly audit: AuditService,
    @Inject(CONFIG) private readonly config: RegistrarConfig,
  ) {}

  async login(input: {
    email: string;
    password: string;
    orgId?: string | undefined;
    sourceIp: string | null;
    userAgent: string | null;
  }): Promise<LoginResult> {
    const email = input.email.toLowerCase();
    const user = await this.repo.findUserByEmail(email);
    const ok = await verifyPassword(user?.passwordHash ?? (await dummyHash()), input.password);
    // Known user: failures are recorded in the user's organization, where its admins see them.
    const memberships = user ? await this.repo.memberships(user.id) : [];
    const membership = input.orgId
      ? memberships.find((m) => m.orgId === input.orgId)
      : memberships[0];
    if (!user || !ok || user.disabledAt || !membership) {
      await this.audit.record({
        orgId: membership?.orgId ?? memberships[0]?.orgId ?? null,
        actorType: 'anonymous',
        actorId: user?.id ?? null,
        action: 'auth.login_failed',
        details: {
          email,
          reason: !user
            ? 'unknown_user'
            : !ok
              ? 'bad_password'
              : user.disabledAt
                ? 'disabled'
                : 'no_membership',
        },
        sourceIp: input.sourceIp,
      });
      throw invalidCredentials();
    }
    await this.repo.deleteExpiredSessions(new Date());
    const token = randomSecret();
    const expiresAt = new Date(Date.now() + this.config.sessionTtlMs);
    const tokenHash = sha256Hex(token);
    await this.repo.createSession({
      tokenHash,
      userId: user.id,
      orgId: membership.orgId,
      expiresAt,
      sourceIp: input.sourceIp,
      userAgent: input.userAgent?.slice(0, 256) ?? null,
    });
    await this.audit.record({
      orgId: membership.orgId,
      actorType: 'user',
      actorId: user.id,
      action: 'auth.login',
      details: {},
      sourceIp: input.sourceIp,
    });
    return {
      token,
      expiresAt,
      memberships,
      principal: {
        userId: user.id,
        email: user.email,
        name: user.name,
        orgId: membership.orgId,
        role: membership.role,
        sessionHash: tokenHash,
      },
    };
  }

  /** Resolves a session token to its principal, or null (unknown, expired, disabled). */
  async authenticate(token: string): Promise<Principal | null> {
    if (token.length < 16 || token.length > 128) return null;
    return this.authenticateHash(sha256Hex(token));
  }

  /**
   * The principal of a login session by its token's hash, or null when it has ended,
   * expired, lost its membership or its user is disabled (the signaling socket re-checks
   * its session this way: it holds the hash, never the token).
   */
  async authenticateHash(tokenHash: string): Promise<Principal | null> {
    const s = await this.repo.findSession(tokenHash);
    if (!s) return null;
    if (s.expiresAt.getTime() <= Date.now() || s.userDisabled || !s.role) {
      if (s.expiresAt.getTime() <= Date.now()) await this.repo.deleteSession(tokenHash);
      return null;
    }
    return {
      userId: s.userId,
      email: s.email,
      name: s.name,
      orgId: s.orgId,
      role: s.role,
      sessionHash: tokenHash,
    };
  }

  /** Called when login sessions end through this replica (sign-out, password change). */
  onSessionsEnded(listener: (ended: EndedSessions) => void): void {
    this.sessionsEnded.push(listener);
  }

  /**
   * Announces login sessions another service has just deleted (a member removed from an
   * organization), so open signaling sockets of those sessions close now.
   */
  sessionsDeleted(e: EndedSessions): void {
    this.ended(e);
  }

  private ended(e: EndedSessions): void {
    for (const listener of this.sessionsEnded) listener(e);
  }

  async logout(p: Principal, sourceIp: string | null): Promise<void> {
    await this.repo.deleteSession(p.sessionHash);
    this.ended({ sessionHash: p.sessionHash });
    await this.audit.record({
      orgId: p.orgId,
      actorType: 'user',
      actorId: p.userId,
      action: 'auth.logout',
      sourceIp,
    });
  }

  async changePassword(
    p: Principal,
    current: string,
    next: string,
    sourceIp: string | null,
  ): Promise<void> {
    const hash = await this.repo.passwordHash(p.userId);
    if (!hash || !(await verifyPassword(hash, current))) {
      throw new DomainError(ErrorCode.INVALID_CREDENTIALS, 'current password is wrong');
    }
    await this.repo.changePassword(p.userId, await hashPassword(next), p.sessionHash);
    this.ended({ userId: p.userId, except: p.sessionHash });
    await this.audit.record({
      orgId: p.orgId,
      actorType: 'user',
      actorId: p.userId,
      action: 'auth.password_change',
      sourceIp,
    });
  }

  memberships(userId: string): Promise<MembershipRecord[]> {
    return this.repo.memberships(userId);
  }
}
