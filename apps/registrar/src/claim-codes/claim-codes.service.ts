import { Inject, Injectable } from '@nestjs/common';
import { AuditService } from '../audit/audit.service.js';
import type { Principal } from '../auth/auth.types.js';
import { DomainError, ErrorCode, notFound } from '../common/errors.js';
import { normalizeClaimCode, randomClaimCode, sha256Hex } from '../common/secrets.js';
import { CONFIG, type RegistrarConfig } from '../config/config.js';
import { ClaimCodesRepository } from './claim-codes.repository.js';
import type { ClaimCodeView } from './claim-codes.types.js';

export function claimCodeHash(code: string): string {
  return sha256Hex(normalizeClaimCode(code));
}

@Injectable()
export class ClaimCodesService {
  constructor(
    private readonly repo: ClaimCodesRepository,
    private readonly audit: AuditService,
    @Inject(CONFIG) private readonly config: RegistrarConfig,
  ) {}

  /** Creates a claim code; the plaintext code is in the result only, never stored. */
  async create(
    p: Principal,
    input: {
      label?: string | undefined;
      tags?: string[] | undefined;
      ttlHours?: number | undefined;
    },
    sourceIp: string | null,
  ): Promise<ClaimCodeView & { code: string }> {
    const ttlMs = (input.ttlHours ?? 24) * 3_600_000;
    if (ttlMs > this.config.claimCodeMaxTtlMs) {
      throw new DomainError(
        ErrorCode.VALIDATION_FAILED,
        `ttlHours must be at most ${this.config.claimCodeMaxTtlMs / 3_600_000}`,
      );
    }
    const code = randomClaimCode();
    const created = await this.repo.create({
      orgId: p.orgId,
      codeHash: claimCodeHash(code),
      label: input.label ?? null,
      tags: [...new Set(input.tags ?? [])].sort(),
      expiresAt: new Date(Date.now() + ttlMs),
      createdBy: p.userId,
    });
    await this.audit.record({
      orgId: p.orgId,
      actorType: 'user',
      actorId: p.userId,
      action: 'claim_code.create',
      targetType: 'claim_code',
      targetId: created.id,
      details: { label: created.label, tags: created.tags, expiresAt: created.expiresAt },
      sourceIp,
    });
    return { ...created, code };
  }

  list(p: Principal): Promise<ClaimCodeView[]> {
    return this.repo.list(p.orgId);
  }

  async revoke(p: Principal, id: string, sourceIp: string | null): Promise<ClaimCodeView> {
    const c = await this.repo.revoke(p.orgId, id);
    if (!c) throw notFound('claim code');
    await this.audit.record({
      orgId: p.orgId,
      actorType: 'user',
      actorId: p.userId,
      action: 'claim_code.revoke',
      targetType: 'claim_code',
      targetId: id,
      details: { state: c.state },
      sourceIp,
    });
    return c;
  }
}
