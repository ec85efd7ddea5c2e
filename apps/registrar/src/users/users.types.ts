import type { MemberRole } from '../auth/auth.types.js';

export interface OrgUserView {
  id: string;
  email: string;
  name: string;
  role: MemberRole;
  createdAt: string;
}
