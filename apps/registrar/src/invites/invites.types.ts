import type { MemberRole } from '../auth/auth.types.js';

export type InviteState = 'pending' | 'accepted' | 'expired' | 'revoked';

export interface InviteView {
  id: string;
  email: string;
  role: MemberRole;
  invitedBy: string | null;
  expiresAt: string;
  acceptedAt: string | null;
  acceptedBy: string | null;
  revokedAt: string | null;
  createdAt: string;
  state: InviteState;
}

/** What the public accept page may learn from a valid token (nothing more). */
export interface InvitePreview {
  orgName: string;
  email: string;
  role: MemberRole;
  expiresAt: string;
  /** The e-mail already has an account: accepting needs that account's password. */
  existingUser: boolean;
}
