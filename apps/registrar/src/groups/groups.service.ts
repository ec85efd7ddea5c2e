import { Injectable } from '@nestjs/common';
import { AuditService } from '../audit/audit.service.js';
import type { AuditAction } from '../audit/audit.types.js';
import { type Principal, roleAtLeast } from '../auth/auth.types.js';
import { DomainError, ErrorCode, notFound } from '../common/errors.js';
import { isUniqueViolation } from '../database/prisma.js';
import { GrantsService } from '../grants/grants.service.js';
import { GroupsRepository } from './groups.repository.js';
import type { GroupView, MemberChange } from './groups.types.js';

const nameTaken = (name: string) =>
  new DomainError(ErrorCode.CONFLICT, `a group named "${name}" already exists`);

/**
 * Groups of people in an organization: a grant to a group applies to each of its members.
 * Admins and owners manage them; a member sees only the groups they are in, and of their
 * members only themselves. A membership or group change clears the grant cache: access
 * follows on this replica at once, on others within AUTHZ_CACHE_TTL_MS.
 */
@Injectable()
export class GroupsService {
  constructor(
    private readonly repo: GroupsRepository,
    private readonly grants: GrantsService,
    private readonly audit: AuditService,
  ) {}

  async list(p: Principal): Promise<GroupView[]> {
    if (roleAtLeast(p.role, 'admin')) return this.repo.list(p.orgId);
    const mine = await this.repo.list(p.orgId, p.userId);
    return mine.map((g) => ({ ...g, memberIds: [p.userId] }));
  }

  async create(p: Principal, input: { name: string }, sourceIp: string | null): Promise<GroupView> {
    const name = cleanName(input.name);
    let group: GroupView;
    try {
      group = await this.repo.create(p.orgId, name);
    } catch (error) {
      if (isUniqueViolation(error)) throw nameTaken(name);
      throw error;
    }
    await this.record(p, 'group.create', group.id, { name }, sourceIp);
    return group;
  }

  async rename(
    p: Principal,
    id: string,
    input: { name: string },
    sourceIp: string | null,
  ): Promise<GroupView> {
    const name = cleanName(input.name);
    let renamed;
    try {
      renamed = await this.repo.rename(p.orgId, id, name);
    } catch (error) {
      if (isUniqueViolation(error)) throw nameTaken(name);
      throw error;
    }
    if (!renamed) throw notFound('group');
    if (renamed.from !== name) {
      await this.record(p, 'group.rename', id, { from: renamed.from, to: name }, sourceIp);
    }
    return renamed.group;
  }

  /** Deletes a group with its memberships and its grants. */
  async delete(p: Principal, id: string, sourceIp: string | null): Promise<void> {
    const deleted = await this.repo.delete(p.orgId, id);
    this.grants.invalidate();
    if (!deleted) throw notFound('group');
    await this.record(p, 'group.delete', id, { ...deleted }, sourceIp);
  }

  /** Puts a member of the org in a group (idempotent: audited only when it changes). */
  async addMember(
    p: Principal,
    groupId: string,
    userId: string,
    sourceIp: string | null,
  ): Promise<GroupView> {
    return this.changeMember(p, groupId, userId, 'add', sourceIp);
  }

  /** Takes a member of the org out of a group (idempotent: audited only when it changes). */
  async removeMember(
    p: Principal,
    groupId: string,
    userId: string,
    sourceIp: string | null,
  ): Promise<GroupView> {
    return this.changeMember(p, groupId, userId, 'remove', sourceIp);
  }

  private async changeMember(
    p: Principal,
    groupId: string,
    userId: string,
    op: 'add' | 'remove',
    sourceIp: string | null,
  ): Promise<GroupView> {
    // Scoped to the caller's org: ids of another org's groups or people look unknown.
    if (!(await this.repo.exists(p.orgId, groupId))) throw notFound('group');
    if (!(await this.repo.memberOfOrg(p.orgId, userId))) throw notFound('user');
    let change: MemberChange | null;
    if (op === 'add') change = await this.repo.addMember(p.orgId, groupId, userId);
    else change = await this.repo.removeMember(p.orgId, groupId, userId);
    this.grants.invalidate();
    if (!change) throw notFound('group');
    if (change.changed) {
      await this.record(
        p,
        op === 'add' ? 'group.member_add' : 'group.member_remove',
        groupId,
        { userId, name: change.group.name },
        sourceIp,
      );
    }
    return change.group;
  }

  private record(
    p: Principal,
    action: Extract<AuditAction, `group.${string}`>,
    groupId: string,
    details: Record<string, unknown>,
    sourceIp: string | null,
  ): Promise<void> {
    return this.audit.record({
      orgId: p.orgId,
      actorType: 'user',
      actorId: p.userId,
      action,
      targetType: 'group',
      targetId: groupId,
      details,
      sourceIp,
    });
  }
}

/** Surrounding blanks are not part of a name; a name of blanks only is no name. */
function cleanName(raw: string): string {
  const name = raw.trim();
  if (!name) throw new DomainError(ErrorCode.VALIDATION_FAILED, 'name must not be blank');
  return name;
}
