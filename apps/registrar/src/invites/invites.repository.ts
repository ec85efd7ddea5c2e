import { Inject, Injectable } from '@nestjs/common';
import type { MemberRole } from '../auth/auth.types.js';
import { PRISMA } from '../database/database.tokens.js';
import type { Db } from '../database/prisma.js';
import type { Invitation } from '../generated/prisma/client.js';
import type { InviteState, InviteView } from './invites.types.js';

function stateOf(i: Invitation, now: Date): InviteState {
  if (i.revokedAt) return 'revoked';
  if (i.acceptedAt) return 'accepted';
  return i.expiresAt <= now ? 'expired' : 'pending';
}

function view(i: Invitation, now = new Date()): InviteView {
  return {
    id: i.id,
    email: i.email,
    role: i.role,
    invitedBy: i.invitedBy,
    expiresAt: i.expiresAt.toISOString(),
    acceptedAt: i.acceptedAt?.toISOString() ?? null,
    acceptedBy: i.acceptedBy,
    revokedAt: i.revokedAt?.toISOString() ?? null,
    createdAt: i.createdAt.toISOString(),
    state: stateOf(i, now),
  };
}

/** An invitation looked up by its token, with what accepting it needs. */
export interface OpenInvite {
  orgId: string;
  orgName: string;
  id: string;
  email: string;
  role: MemberRole;
  expiresAt: Date;
  state: InviteState;
}

export type AcceptOutcome = 'accepted' | 'invalid' | 'already_member';

@Injectable()
export class InvitesRepository {
  constructor(@Inject(PRISMA) private readonly db: Db) {}

  /**
   * Creates an invitation, revoking any open one for the same e-mail (a re-invite replaces
   * the old link). Null when the e-mail is already a member of the organization.
   */
  async create(input: {
    orgId: string;
    email: string;
    role: MemberRole;
    tokenHash: string;
    invitedBy: string;
    expiresAt: Date;
  }): Promise<{ invite: InviteView; replaced: string[] } | null> {
    return this.db.$transaction(async (tx) => {
      const member = await tx.membership.count({
        where: { orgId: input.orgId, user: { email: input.email } },
      });
      if (member > 0) return null;
      const open = await tx.invitation.findMany({
        where: { orgId: input.orgId, email: input.email, acceptedAt: null, revokedAt: null },
        select: { id: true },
      });
      if (open.length > 0) {
        await tx.invitation.updateMany({
          where: { orgId: input.orgId, id: { in: open.map((o) => o.id) } },
          data: { revokedAt: new Date() },
        });
      }
      const created = await tx.invitation.create({ data: input });
      return { invite: view(created), replaced: open.map((o) => o.id) };
    });
  }

  async list(orgId: string): Promise<InviteView[]> {
    const rows = await this.db.invitation.findMany({
      where: { orgId },
      orderBy: { createdAt: 'desc' },
      take: 500,
    });
    const now = new Date();
    return rows.map((r) => view(r, now));
  }

  /** Revokes a pending invitation; returns it as it is now (null: no such invitation). */
  async revoke(orgId: string, id: string): Promise<InviteView | null> {
    await this.db.invitation.updateMany({
      where: { orgId, id, revokedAt: null, acceptedAt: null },
      data: { revokedAt: new Date() },
    });
    const i = await this.db.invitation.findUnique({ where: { orgId_id: { orgId, id } } });
    return i ? view(i) : null;
  }

  async userExists(email: string): Promise<boolean> {
    return (await this.db.user.count({ where: { email } })) > 0;
  }

  findUser(
    email: string,
  ): Promise<{ id: string; passwordHash: string; disabledAt: Date | null } | null> {
    return this.db.user.findUnique({
      where: { email },
      select: { id: true, passwordHash: true, disabledAt: true },
    });
  }

  async findByTokenHash(tokenHash: string): Promise<OpenInvite | null> {
    const i = await this.db.invitation.findUnique({
      where: { tokenHash },
      include: { org: { select: { name: true } } },
    });
    if (!i) return null;
    return {
      orgId: i.orgId,
      orgName: i.org.name,
      id: i.id,
      email: i.email,
      role: i.role,
      expiresAt: i.expiresAt,
      state: stateOf(i, new Date()),
    };
  }

  /**
   * Uses the invitation and adds the membership, atomically: the invitation is claimed only
   * if still pending (two racing accepts: one wins), the user is created when `newUser` is
   * given, and nothing changes unless everything does.
   */
  async accept(input: {
    tokenHash: string;
    orgId: string;
    email: string;
    role: MemberRole;
    newUser: { name: string; passwordHash: string } | null;
  }): Promise<{ outcome: AcceptOutcome; userId: string | null }> {
    return this.db
      .$transaction(async (tx) => {
        const now = new Date();
        const claimed = await tx.invitation.updateMany({
          where: {
            tokenHash: input.tokenHash,
            acceptedAt: null,
            revokedAt: null,
            expiresAt: { gt: now },
          },
          data: { acceptedAt: now },
        });
        if (claimed.count !== 1) return { outcome: 'invalid' as const, userId: null };
        let user = await tx.user.findUnique({
          where: { email: input.email },
          select: { id: true },
        });
        if (!user) {
          // The e-mail had no account when the caller checked; a concurrent sign-up is
          // caught by the unique e-mail and rolls everything back.
          if (!input.newUser) throw new Abort('invalid', null);
          user = await tx.user.create({
            data: { email: input.email, ...input.newUser },
            select: { id: true },
          });
        }
        const existing = await tx.membership.count({
          where: { orgId: input.orgId, userId: user.id },
        });
        if (existing > 0) throw new Abort('already_member', user.id);
        await tx.membership.create({
          data: { orgId: input.orgId, userId: user.id, role: input.role },
        });
        await tx.invitation.updateMany({
          where: { tokenHash: input.tokenHash },
          data: { acceptedBy: user.id },
        });
        return { outcome: 'accepted' as const, userId: user.id };
      })
      .catch((error: unknown) => {
        if (error instanceof Abort) return { outcome: error.outcome, userId: error.userId };
        throw error;
      });
  }
}

/** Thrown inside the accept transaction to roll it back (the invitation stays usable). */
class Abort extends Error {
  constructor(
    readonly outcome: Exclude<AcceptOutcome, 'accepted'>,
    readonly userId: string | null,
  ) {
    super(outcome);
  }
}
