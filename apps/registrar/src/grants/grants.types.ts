/** Grant roles, weakest first. */
export const GRANT_ROLES = ['viewer', 'operator', 'admin'] as const;
export type GrantRole = (typeof GRANT_ROLES)[number];
export type GrantSubjectType = 'user' | 'group';

export interface GrantView {
  id: string;
  orgId: string;
  subjectType: GrantSubjectType;
  userId: string | null;
  groupId: string | null;
  deviceId: string | null;
  deviceTag: string | null;
  role: GrantRole;
  createdBy: string | null;
  createdAt: string;
}

export interface NewGrant {
  orgId: string;
  subjectType: GrantSubjectType;
  userId: string | null;
  groupId: string | null;
  deviceId: string | null;
  deviceTag: string | null;
  role: GrantRole;
  createdBy: string;
}

const rank: Record<GrantRole, number> = { viewer: 0, operator: 1, admin: 2 };
export function grantRoleAtLeast(role: GrantRole, min: GrantRole): boolean {
  return rank[role] >= rank[min];
}
export function maxGrantRole(roles: GrantRole[]): GrantRole | null {
  return roles.reduce<GrantRole | null>((a, r) => (a === null || rank[r] > rank[a] ? r : a), null);
}
