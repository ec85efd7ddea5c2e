/** Roles in an organization, highest first (the DTOs' allowed values). */
export const MEMBER_ROLES = ['owner', 'admin', 'member'] as const;
export type MemberRole = (typeof MEMBER_ROLES)[number];

const rank: Record<MemberRole, number> = { member: 0, admin: 1, owner: 2 };
export function roleAtLeast(role: MemberRole, min: MemberRole): boolean {
  return rank[role] >= rank[min];
}

/** The authenticated caller of a request. */
export interface Principal {
  userId: string;
  email: string;
  name: string;
  orgId: string;
  role: MemberRole;
  /** SHA-256 of the session token (identifies the session for logout). */
  sessionHash: string;
}

export interface UserRecord {
  id: string;
  email: string;
  name: string;
  passwordHash: string;
  disabledAt: Date | null;
}

export interface SessionRecord {
  tokenHash: string;
  userId: string;
  orgId: string;
  expiresAt: Date;
  role: MemberRole | null;
  email: string;
  name: string;
  userDisabled: boolean;
}

export interface MembershipRecord {
  orgId: string;
  orgName: string;
  role: MemberRole;
}
