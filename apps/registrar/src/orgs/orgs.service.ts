import { Injectable } from '@nestjs/common';
import { z } from 'zod';
import { AuditService } from '../audit/audit.service.js';
import type { Principal } from '../auth/auth.types.js';
import { notFound } from '../common/errors.js';
import { AUTHZ_CACHE_TTL_MS, TtlCache } from '../common/ttl-cache.js';
import { OrgsRepository } from './orgs.repository.js';
import { DEFAULT_ORG_SETTINGS, type OrgSettings, TURN_FROM_REGISTRAR } from './orgs.types.js';

const stunUrl = z
  .string()
  .regex(/^(stun|stuns|turn|turns):[^\s]{1,250}$/, 'must be a stun: or stuns: URL')
  .refine((u) => /^stuns?:/.test(u), TURN_FROM_REGISTRAR);
// No static credentials: nothing here may end up as a long-lived secret in every client.
const settingsSchema = z.object({
  iceServers: z
    .array(z.object({ urls: z.union([stunUrl, z.array(stunUrl).min(1).max(8)]) }).strict())
    .max(8),
});

@Injectable()
export class OrgsService {
  /** Settings read on every session request and offer; cleared on update (see TtlCache). */
  private readonly cache = new TtlCache<OrgSettings & { name: string }>(AUTHZ_CACHE_TTL_MS);

  constructor(
    private readonly repo: OrgsRepository,
    private readonly audit: AuditService,
  ) {}

  async settings(orgId: string): Promise<OrgSettings & { name: string }> {
    const found = await this.cache.getOrLoad(orgId, async () => {
      const row = await this.repo.settings(orgId);
      if (!row) return null;
      const parsed = settingsSchema.safeParse(row.settings);
      return { name: row.name, ...(parsed.success ? parsed.data : DEFAULT_ORG_SETTINGS) };
    });
    if (!found) throw notFound('organization');
    return found;
  }

  async update(
    p: Principal,
    settings: OrgSettings,
    sourceIp: string | null,
  ): Promise<OrgSettings & { name: string }> {
    const valid = settingsSchema.parse(settings);
    await this.repo.saveSettings(p.orgId, valid);
    this.cache.delete(p.orgId);
    await this.audit.record({
      orgId: p.orgId,
      actorType: 'user',
      actorId: p.userId,
      action: 'org.settings',
      targetType: 'organization',
      targetId: p.orgId,
      details: { iceServers: valid.iceServers.map((s) => s.urls) },
      sourceIp,
    });
    return this.settings(p.orgId);
  }
}
