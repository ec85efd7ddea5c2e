import { Inject, Injectable } from '@nestjs/common';
import { PRISMA } from '../database/database.tokens.js';
import type { Db } from '../database/prisma.js';
import type { Prisma } from '../generated/prisma/client.js';

@Injectable()
export class OrgsRepository {
  constructor(@Inject(PRISMA) private readonly db: Db) {}

  /** The raw settings JSON (validated by the service), null if the org does not exist. */
  async settings(orgId: string): Promise<{ name: string; settings: unknown } | null> {
    return this.db.organization.findUnique({
      where: { id: orgId },
      select: { name: true, settings: true },
    });
  }

  async saveSettings(orgId: string, settings: Prisma.InputJsonObject): Promise<void> {
    await this.db.organization.update({
      where: { id: orgId },
      data: { settings },
    });
  }
}
