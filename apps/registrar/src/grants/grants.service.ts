import { Injectable } from '@nestjs/common';
import { AuditService } from '../audit/audit.service.js';
import type { Principal } from '../auth/auth.types.js';
import { DomainError, ErrorCode, notFound } from '../common/errors.js';
import { AUTHZ_CACHE_TTL_MS, TtlCache } from '../common/ttl-cache.js';
import { GrantsRepository } from './grants.repository.js';
import { type GrantRole, type GrantView, maxGrantRole } from './grants.types.js';

export interface GrantTarget {
  id: string;
  tags: string[];
}

export interface CreateGrantInput {
  userId?: string | undefined;
  groupId?: string | undefined;
  deviceId?: string | undefined;
  deviceTag?: string | undefined;
  role: GrantRole;
}

@Injectable()
export class GrantsService {
  /**
   * Grants of a user (direct and through groups), read on every session request and offer.
   * Any grant change through this replica clears it (a group grant concerns many users);
   * changes on another replica apply within AUTHZ_CACHE_TTL_MS.
   */
  private readonly cache = new TtlCache<GrantView[]>(AUTHZ_CACHE_TTL_MS);

  constructor(
    private readonly repo: GrantsRepository,
    private readonly audit: AuditService,
  ) {}

  /**
   * The caller's effective role on a device: org owners and admins administer every device
   * of their org; members get the highest role among their grants (direct, group, tag).
   */
  async effectiveRole(p: Principal, device: GrantTarget): Promise<GrantRole | null> {
    if (p.role === 'owner' || p.role === 'admin') return 'admin';
    const grants = await this.grantsOfUser(p.orgId, p.userId);
    return maxGrantRole(
      grants
        .filter(
          (g) =>
            g.deviceId === device.id || (g.deviceTag !== null && device.tags.includes(g.deviceTag)),
        )
        .map((g) => g.role),
    );
  }

  /** Device ids and tags a member may see (undefined: everything, for admins). */
  async visibility(p: Principal): Promise<{ deviceIds: string[]; tags: string[] } | undefined> {
    if (p.role === 'owner' || p.role === 'admin') return undefined;
    const grants = await this.grantsOfUser(p.orgId, p.userId);
    return {
      deviceIds: grants.flatMap((g) => (g.deviceId ? [g.deviceId] : [])),
      tags: grants.flatMap((g) => (g.deviceTag ? [g.deviceTag] : [])),
    };
  }

  private async grantsOfUser(orgId: string, userId: string): Promise<GrantView[]> {
    return (
      (await this.cache.getOrLoad(`${orgId}/${userId}`, () =>
        this.repo.grantsOfUser(orgId, userId),
      )) ?? []
    );
  }

  /** Forget cached grants (after a grant or group-membership change). */
  invalidate(): void {
    this.cache.clear();
  }

  list(
    p: Principal,
    f: { userId?: string | undefined; deviceId?: string | undefined },
  ): Promise<GrantView[]> {
    return this.repo.list(p.orgId, f);
  }

  async get(p: Principal, id: string): Promise<GrantView> {
    const g = await this.repo.get(p.orgId, id);
    if (!g) throw notFound('grant');
    return g;
  }

  async create(p: Principal, input: CreateGrantInput, sourceIp: string | null): Promise<GrantView> {
    const hasUser = input.userId !== undefined;
    const hasGroup = input.groupId !== undefined;
    const hasDevice = input.deviceId !== undefined;
    const hasTag = input.deviceTag !== undefined;
    if (hasUser === hasGroup) {
      throw new DomainError(ErrorCode.VALIDATION_FAILED, 'give exactly one of userId, groupId');
    }
    if (hasDevice === hasTag) {
      throw new DomainError(ErrorCode.VALIDATION_FAILED, 'give exactly one of deviceId, deviceTag');
    }
    // Existence checks scoped to the caller's org: ids of other orgs look like unknown ids.
    if (input.userId && !(await this.repo.memberExists(p.orgId, input.userId))) {
      throw notFound('user');
    }
    if (input.groupId && !(await this.repo.groupExists(p.orgId, input.groupId))) {
      throw notFound('group');
    }
    if (input.deviceId && !(await this.repo.deviceExists(p.orgId, input.deviceId))) {
      throw notFound('device');
    }
    const grant = await this.repo.create({
      orgId: p.orgId,
      subjectType: hasUser ? 'user' : 'group',
      userId: input.userId ?? null,
      groupId: input.groupId ?? null,
      deviceId: input.deviceId ?? null,
      deviceTag: input.deviceTag ?? null,
      role: input.role,
      createdBy: p.userId,
    });
    this.invalidate();
    await this.audit.record({
      orgId: p.orgId,
      actorType: 'user',
      actorId: p.userId,
      action: 'grant.create',
      targetType: 'grant',
      targetId: grant.id,
      details: {
        subject: grant.userId ?? grant.groupId,
        subjectType: grant.subjectType,
        device: grant.deviceId,
        tag: grant.deviceTag,
        role: grant.role,
      },
      sourceIp,
    });
    return grant;
  }

  async updateRole(
    p: Principal,
    id: string,
    role: GrantRole,
    sourceIp: string | null,
  ): Promise<GrantView> {
    const before = await this.get(p, id);
    const g = await this.repo.updateRole(p.orgId, id, role);
    this.invalidate();
    if (!g) throw notFound('grant');
    await this.audit.record({
      orgId: p.orgId,
      actorType: 'user',
      actorId: p.userId,
      action: 'grant.update',
      targetType: 'grant',
      targetId: id,
      details: { from: before.role, to: role },
      sourceIp,
    });
    return g;
  }

  async delete(p: Principal, id: string, sourceIp: string | null): Promise<void> {
    const deleted = await this.repo.delete(p.orgId, id);
    this.invalidate();
    if (!deleted) throw notFound('grant');
    await this.audit.record({
      orgId: p.orgId,
      actorType: 'user',
      actorId: p.userId,
      action: 'grant.delete',
      targetType: 'grant',
      targetId: id,
      sourceIp,
    });
  }
}
