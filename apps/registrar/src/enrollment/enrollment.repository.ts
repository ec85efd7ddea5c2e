import { Inject, Injectable } from '@nestjs/common';
import { PRISMA } from '../database/database.tokens.js';
import { type Db, isUniqueViolation } from '../database/prisma.js';

export type RedeemOutcome =
  | { kind: 'enrolled'; orgId: string; deviceId: string; tags: string[]; name: string }
  | {
      kind: 'code_invalid';
      orgId: string | null;
      reason: 'unknown' | 'used' | 'expired' | 'revoked';
    }
  | { kind: 'key_revoked'; orgId: string }
  | { kind: 'key_enrolled'; orgId: string };

class Rollback extends Error {
  constructor(readonly outcome: RedeemOutcome) {
    super(outcome.kind);
  }
}

@Injectable()
export class EnrollmentRepository {
  constructor(@Inject(PRISMA) private readonly db: Db) {}

  async createNonce(nonce: string, expiresAt: Date): Promise<void> {
    await this.db.enrollmentNonce.create({ data: { nonce, expiresAt } });
  }

  async purgeExpiredNonces(now: Date): Promise<void> {
    await this.db.enrollmentNonce.deleteMany({ where: { expiresAt: { lt: now } } });
  }

  /** Marks the nonce used if it exists, is unused and unexpired. True only once. */
  async consumeNonce(nonce: string, now: Date): Promise<boolean> {
    const r = await this.db.enrollmentNonce.updateMany({
      where: { nonce, usedAt: null, expiresAt: { gt: now } },
      data: { usedAt: now },
    });
    return r.count === 1;
  }

  /**
   * Atomically redeems the claim code and creates the device: either both happen or
   * neither (a refused enrollment leaves the code usable). `beforeCommit` runs last inside
   * the transaction (the broker account): if it throws, nothing is committed and the error
   * propagates. `timeoutMs` bounds the whole transaction.
   */
  async redeem(
    input: {
      codeHash: string;
      now: Date;
      name: string | undefined;
      publicKeyJwk: object;
      keyFingerprint: string;
      agentVersion: string;
      mqttPasswordHash: string;
    },
    options: {
      beforeCommit?: (device: { deviceId: string; orgId: string }) => Promise<void>;
      timeoutMs?: number;
    } = {},
  ): Promise<RedeemOutcome> {
    try {
      return await this.db.$transaction(
        async (tx) => {
          const code = await tx.claimCode.findUnique({ where: { codeHash: input.codeHash } });
          if (!code) throw new Rollback({ kind: 'code_invalid', orgId: null, reason: 'unknown' });
          const claimed = await tx.claimCode.updateMany({
            where: {
              orgId: code.orgId,
              id: code.id,
              usedAt: null,
              revokedAt: null,
              expiresAt: { gt: input.now },
            },
            data: { usedAt: input.now },
          });
          if (claimed.count !== 1) {
            const reason = code.revokedAt ? 'revoked' : code.usedAt ? 'used' : 'expired';
            throw new Rollback({ kind: 'code_invalid', orgId: code.orgId, reason });
          }
          const revoked = await tx.revokedKey.findUnique({
            where: { keyFingerprint: input.keyFingerprint },
          });
          if (revoked) throw new Rollback({ kind: 'key_revoked', orgId: code.orgId });
          const name = input.name ?? code.label ?? `device-${input.keyFingerprint.slice(0, 8)}`;
          const device = await tx.device.create({
            data: {
              orgId: code.orgId,
              name,
              tags: code.tags,
              publicKeyJwk: input.publicKeyJwk,
              keyFingerprint: input.keyFingerprint,
              agentVersion: input.agentVersion,
              mqttPasswordHash: input.mqttPasswordHash,
            },
          });
          await tx.claimCode.update({
            where: { orgId_id: { orgId: code.orgId, id: code.id } },
            data: { usedByDevice: device.id },
          });
          await options.beforeCommit?.({ deviceId: device.id, orgId: code.orgId });
          return {
            kind: 'enrolled' as const,
            orgId: code.orgId,
            deviceId: device.id,
            tags: device.tags,
            name: device.name,
          };
        },
        options.timeoutMs === undefined ? undefined : { timeout: options.timeoutMs },
      );
    } catch (error) {
      if (error instanceof Rollback) return error.outcome;
      if (isUniqueViolation(error)) {
        const orgId = (
          await this.db.claimCode.findUnique({
            where: { codeHash: input.codeHash },
            select: { orgId: true },
          })
        )?.orgId;
        if (orgId) return { kind: 'key_enrolled', orgId };
      }
      throw error;
    }
  }
}
