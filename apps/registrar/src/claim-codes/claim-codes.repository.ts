import { Inject, Injectable } from '@nestjs/common';
import { PRISMA } from '../database/database.tokens.js';
import type { Db } from '../database/prisma.js';
import type { ClaimCode } from '../generated/prisma/client.js';
import type { ClaimCodeView } from './claim-codes.types.js';

function view(c: ClaimCode, now = new Date()): ClaimCodeView {
  return {
    id: c.id,
    label: c.label,
    tags: c.tags,
    expiresAt: c.expiresAt.toISOString(),
    usedAt: c.usedAt?.toISOString() ?? null,
    usedByDevice: c.usedByDevice,
    revokedAt: c.revokedAt?.toISOString() ?? null,
    createdAt: c.createdAt.toISOString(),
    state: c.revokedAt ? 'revoked' : c.usedAt ? 'used' : c.expiresAt <= now ? 'expired' : 'active',
  };
}

@Injectable()
export class ClaimCodesRepository {
  constructor(@Inject(PRISMA) private readonly db: Db) {}

  async create(c: {
    orgId: string;
    codeHash: string;
    label: string | null;
    tags: string[];
    expiresAt: Date;
    createdBy: string;
  }): Promise<ClaimCodeView> {
    return view(await this.db.claimCode.create({ data: c }));
  }

  async list(orgId: string): Promise<ClaimCodeView[]> {
    const rows = await this.db.claimCode.findMany({
      where: { orgId },
      orderBy: { createdAt: 'desc' },
      take: 500,
    });
    const now = new Date();
    return rows.map((r) => view(r, now));
  }

  async revoke(orgId: string, id: string): Promise<ClaimCodeView | null> {
    await this.db.claimCode.updateMany({
      where: { orgId, id, revokedAt: null, usedAt: null },
      data: { revokedAt: new Date() },
    });
    const c = await this.db.claimCode.findUnique({ where: { orgId_id: { orgId, id } } });
    return c ? view(c) : null;
  }
}
