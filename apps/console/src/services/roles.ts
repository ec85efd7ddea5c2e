import type { OrgRole } from './api-types.js';

const ORG_ROLE_RANK: Record<OrgRole, number> = { member: 0, admin: 1, owner: 2 };

/** Whether `role` is `min` or above (owner > admin > member), as the registrar ranks them. */
export function orgRoleAtLeast(role: OrgRole, min: OrgRole): boolean {
  return ORG_ROLE_RANK[role] >= ORG_ROLE_RANK[min];
}
