export interface ClaimCodeView {
  id: string;
  label: string | null;
  tags: string[];
  expiresAt: string;
  usedAt: string | null;
  usedByDevice: string | null;
  revokedAt: string | null;
  createdAt: string;
  state: 'active' | 'used' | 'expired' | 'revoked';
}

/** A claim code as the enrollment needs it. */
export interface RedeemableClaimCode {
  orgId: string;
  id: string;
  tags: string[];
  label: string | null;
}
