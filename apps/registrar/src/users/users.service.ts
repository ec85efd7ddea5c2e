import { Inject, Injectable, Logger } from '@nestjs/common';
import { AuditService } from '../audit/audit.service.js';
import { type MemberRole, type Principal, roleAtLeast } from '../auth/auth.types.js';
import { hashPassword } from '../auth/password.js';
import { DomainError, ErrorCode, forbidden } from '../common/errors.js';
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
}
