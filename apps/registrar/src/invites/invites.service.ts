import { Injectable } from '@nestjs/common';
import { AuditService } from '../audit/audit.service.js';
import { type MemberRole, type Principal, roleAtLeast } from '../auth/auth.types.js';
import { hashPassword, verifyPassword } from '../auth/password.js';
import { DomainError, ErrorCode, forbidden, notFound } from '../common/errors.js';
import { randomSecret, sha256Hex } from '../common/secrets.js';
import { isUniqueViolation } from '../database/prisma.js';
import { InvitesRepository, type OpenInvite } from './invites.repository.js';
import type { InvitePreview, InviteView } from './invites.types.js';

const DEFAULT_TTL_HOURS = 72;
const MIN_PASSWORD = 12;

const inviteInvalid = () =>
  new DomainError(
    ErrorCode.INVITE_INVALID,
    'this invitation is not valid: it may have expired, been revoked or already been used',
  );

export interface AcceptResult {
  orgId: string;
  orgName: string;
  email: string;
  role: MemberRole;
  /** False when the invitation was accepted with an existing account. */
  accountCreated: boolean;
}

/**
 * Invitations: an admin invites an e-mail with a role; the registrar returns a token once
 * (the console turns it into a link the admin passes on, no mail server involved). Whoever
 * holds the link can accept it once, before it expires, as that e-mail: by choosing a
 * password (new account) or by proving the existing account's password.
 */
@Injectable()
export class InvitesService {
  constructor(
    private readonly repo: InvitesRepository,
    private readonly audit: AuditService,
  ) {}

  async create(
    p: Principal,
    input: { email: string; role: MemberRole; ttlHours?: number | undefined },
    sourceIp: string | null,
  ): Promise<InviteView & { token: string }> {
    if (!roleAtLeast(p.role, input.role))
      throw forbidden('cannot invite with a role above your own');
    const email = input.email.trim().toLowerCase();
    const token = randomSecret();
    let created;
    try {
      created = await this.repo.create({
        orgId: p.orgId,
        email,
        role: input.role,
        tokenHash: sha256Hex(token),
        invitedBy: p.userId,
        expiresAt: new Date(Date.now() + (input.ttlHours ?? DEFAULT_TTL_HOURS) * 3_600_000),
      });
    } catch (error) {
      // Two admins invited the same e-mail at the same moment.
      if (isUniqueViolation(error)) {
        throw new DomainError(ErrorCode.CONFLICT, 'an invitation for this e-mail was just created');
      }
      throw error;
    }
    if (!created) throw new DomainError(ErrorCode.CONFLICT, `${email} is already a member`);
    for (const id of created.replaced) {
      await this.audit.record({
        orgId: p.orgId,
        actorType: 'user',
        actorId: p.userId,
        action: 'invite.revoke',
        targetType: 'invite',
        targetId: id,
        details: { email, reason: 'replaced' },
        sourceIp,
      });
    }
    await this.audit.record({
      orgId: p.orgId,
      actorType: 'user',
      actorId: p.userId,
      action: 'invite.create',
      targetType: 'invite',
      targetId: created.invite.id,
      details: { email, role: input.role, expiresAt: created.invite.expiresAt },
      sourceIp,
    });
    return { ...created.invite, token };
  }

  list(p: Principal): Promise<InviteView[]> {
    return this.repo.list(p.orgId);
  }

  async revoke(p: Principal, id: string, sourceIp: string | null): Promise<InviteView> {
    const invite = await this.repo.revoke(p.orgId, id);
    if (!invite) throw notFound('invitation');
    await this.audit.record({
      orgId: p.orgId,
      actorType: 'user',
      actorId: p.userId,
      action: 'invite.revoke',
      targetType: 'invite',
      targetId: id,
      details: { email: invite.email, state: invite.state },
      sourceIp,
    });
    return invite;
  }

  /** What the accept page shows before the person commits (public, rate-limited). */
  async preview(token: string, sourceIp: string | null): Promise<InvitePreview> {
    const invite = await this.pending(token, sourceIp);
    return {
      orgName: invite.orgName,
      email: invite.email,
      role: invite.role,
      expiresAt: invite.expiresAt.toISOString(),
      existingUser: await this.repo.userExists(invite.email),
    };
  }

  async accept(
    input: { token: string; name?: string | undefined; password: string },
    sourceIp: string | null,
  ): Promise<AcceptResult> {
    const invite = await this.pending(input.token, sourceIp);
    const user = await this.repo.findUser(invite.email);
    let newUser: { name: string; passwordHash: string } | null = null;
    if (user) {
      const ok = await verifyPassword(user.passwordHash, input.password);
      if (!ok || user.disabledAt) {
        await this.failed(invite, ok ? 'disabled' : 'bad_password', sourceIp);
        throw new DomainError(
          ErrorCode.INVALID_CREDENTIALS,
          `${invite.email} already has an account: enter its password to accept`,
        );
      }
    } else {
      const name = input.name?.trim();
      if (!name) {
        throw new DomainError(ErrorCode.VALIDATION_FAILED, 'name is required for a new account');
      }
      if (input.password.length < MIN_PASSWORD) {
        throw new DomainError(
          ErrorCode.VALIDATION_FAILED,
          `password must be at least ${MIN_PASSWORD} characters`,
        );
      }
      newUser = { name, passwordHash: await hashPassword(input.password) };
    }
    let result;
    try {
      result = await this.repo.accept({
        tokenHash: sha256Hex(input.token),
        orgId: invite.orgId,
        email: invite.email,
        role: invite.role,
        newUser,
      });
    } catch (error) {
      if (isUniqueViolation(error)) throw inviteInvalid(); // the e-mail signed up meanwhile
      throw error;
    }
    if (result.outcome === 'already_member') {
      await this.failed(invite, 'already_member', sourceIp);
      throw new DomainError(ErrorCode.CONFLICT, `${invite.email} is already a member`);
    }
    if (result.outcome !== 'accepted') {
      await this.failed(invite, 'raced', sourceIp);
      throw inviteInvalid();
    }
    await this.audit.record({
      orgId: invite.orgId,
      actorType: 'user',
      actorId: result.userId,
      action: 'invite.accept',
      targetType: 'invite',
      targetId: invite.id,
      details: { email: invite.email, role: invite.role, accountCreated: newUser !== null },
      sourceIp,
    });
    return {
      orgId: invite.orgId,
      orgName: invite.orgName,
      email: invite.email,
      role: invite.role,
      accountCreated: newUser !== null,
    };
  }

  /** The pending invitation a token names; anything else is refused the same way. */
  private async pending(token: string, sourceIp: string | null): Promise<OpenInvite> {
    const invite = await this.repo.findByTokenHash(sha256Hex(token));
    if (!invite || invite.state !== 'pending') {
      if (invite) await this.failed(invite, invite.state, sourceIp);
      else {
        await this.audit.record({
          orgId: null,
          actorType: 'anonymous',
          actorId: null,
          action: 'invite.accept_failed',
          details: { reason: 'unknown_token' },
          sourceIp,
        });
      }
      throw inviteInvalid();
    }
    return invite;
  }

  private failed(invite: OpenInvite, reason: string, sourceIp: string | null): Promise<void> {
    return this.audit.record({
      orgId: invite.orgId,
      actorType: 'anonymous',
      actorId: null,
      action: 'invite.accept_failed',
      targetType: 'invite',
      targetId: invite.id,
      details: { email: invite.email, reason },
      sourceIp,
    });
  }
}
