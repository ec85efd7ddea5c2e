import { Inject, Injectable, Logger } from '@nestjs/common';
import { AuditService } from '../audit/audit.service.js';
import { AuthService } from '../auth/auth.service.js';
import { type MemberRole, type Principal, roleAtLeast } from '../auth/auth.types.js';
import { hashPassword } from '../auth/password.js';
import { DomainError, ErrorCode, forbidden, notFound } from '../common/errors.js';
import { randomSecret } from '../common/secrets.js';
import { CONFIG, type RegistrarConfig } from '../config/config.js';
import { isUniqueViolation } from '../database/prisma.js';
import { UsersRepository } from './users.repository.js';
import type { OrgUserView } from './users.types.js';

export interface BootstrapResult {
  orgId: string;
  email: string;
  /** Present only when the password was generated (print it once, never log it). */
  generatedPassword?: string;
}

@Injectable()
export class UsersService {
  private readonly logger = new Logger('Users');

  constructor(
    private readonly repo: UsersRepository,
    private readonly audit: AuditService,
    private readonly auth: AuthService,
    @Inject(CONFIG) private readonly config: RegistrarConfig,
  ) {}

  /** First start: creates the first organization and its owner. No-op once any user exists. */
  async bootstrap(): Promise<BootstrapResult | null> {
    if ((await this.repo.countUsers()) > 0) return null;
    const { orgName, adminEmail, adminPassword } = this.config.bootstrap;
    const password = adminPassword ?? randomSecret(18);
    try {
      const { orgId, userId } = await this.repo.createOrgWithOwner({
        orgName,
        email: adminEmail,
        name: 'Administrator',
        passwordHash: await hashPassword(password),
      });
      await this.audit.record({
        orgId,
        actorType: 'system',
        actorId: null,
        action: 'org.bootstrap',
        targetType: 'user',
        targetId: userId,
        details: { email: adminEmail },
        sourceIp: null,
      });
      this.logger.log(`created organization "${orgName}" with owner ${adminEmail}`);
      return {
        orgId,
        email: adminEmail,
        ...(adminPassword ? {} : { generatedPassword: password }),
      };
    } catch (error) {
      // Another replica bootstrapped at the same moment.
      if (isUniqueViolation(error)) return null;
      throw error;
    }
  }

  list(p: Principal): Promise<OrgUserView[]> {
    return this.repo.listMembers(p.orgId);
  }

  async create(
    p: Principal,
    input: { email: string; name: string; password: string; role: MemberRole },
    sourceIp: string | null,
  ): Promise<OrgUserView> {
    if (!roleAtLeast(p.role, input.role)) throw forbidden('cannot grant a role above your own');
    let user: OrgUserView;
    try {
      user = await this.repo.addMember({
        orgId: p.orgId,
        email: input.email.toLowerCase(),
        name: input.name,
        passwordHash: await hashPassword(input.password),
        role: input.role,
      });
    } catch (error) {
      if (isUniqueViolation(error)) {
        throw new DomainError(ErrorCode.CONFLICT, 'this user is already a member');
      }
      throw error;
    }
    await this.audit.record({
      orgId: p.orgId,
      actorType: 'user',
      actorId: p.userId,
      action: 'user.create',
      targetType: 'user',
      targetId: user.id,
      details: { email: user.email, role: user.role },
      sourceIp,
    });
    return user;
  }

  /** Changes a member's role (admins and owners; never their own, never above their own). */
  async changeRole(
    p: Principal,
    userId: string,
    role: MemberRole,
    sourceIp: string | null,
  ): Promise<OrgUserView> {
    const changed = await this.repo.changeMember(p.orgId, p.userId, userId, { role }, (m, now) =>
      this.checkChange(p, m, now, role),
    );
    if (!changed) throw notFound('member');
    const { before, after } = changed;
    if (before.role !== role) {
      await this.audit.record({
        orgId: p.orgId,
        actorType: 'user',
        actorId: p.userId,
        action: 'user.role_change',
        targetType: 'user',
        targetId: userId,
        details: { email: before.email, from: before.role, to: role },
        sourceIp,
      });
    }
    return after ?? before;
  }

  /**
   * Removes a member from the organization: their grants and group memberships go with the
   * membership, their login sessions in this org end now (REST at once; this replica closes
   * their signaling sockets and hangs up the device sessions signaled through them).
   */
  async remove(p: Principal, userId: string, sourceIp: string | null): Promise<void> {
    const changed = await this.repo.changeMember(
      p.orgId,
      p.userId,
      userId,
      { remove: true },
      (m, now) => this.checkChange(p, m, now, null),
    );
    if (!changed) throw notFound('member');
    this.auth.sessionsDeleted({ userId, orgId: p.orgId });
    await this.audit.record({
      orgId: p.orgId,
      actorType: 'user',
      actorId: p.userId,
      action: 'user.remove',
      targetType: 'user',
      targetId: userId,
      details: { email: changed.before.email, role: changed.before.role },
      sourceIp,
    });
  }

  /** Refuses a role change (`role`) or a removal (`null`) the actor may not make. */
  private checkChange(
    p: Principal,
    member: OrgUserView,
    now: { actorRole: MemberRole | null },
    role: MemberRole | null,
  ): void {
    if (member.id === p.userId) {
      throw forbidden(
        role
          ? 'you cannot change your own role'
          : 'you cannot remove yourself from the organization',
      );
    }
    // Re-read under the org's lock: the caller's role may have changed since sign-in.
    const actorRole = now.actorRole;
    if (!actorRole || !roleAtLeast(actorRole, 'admin')) throw forbidden();
    if (!roleAtLeast(actorRole, member.role)) {
      throw forbidden('cannot change a member whose role is above your own');
    }
    if (role && !roleAtLeast(actorRole, role)) {
      throw forbidden('cannot grant a role above your own');
    }
    // No last-owner check is needed: only an owner changes an owner, never itself, so an
    // owner always remains (and the lock keeps that true for changes made at once).
  }
}
