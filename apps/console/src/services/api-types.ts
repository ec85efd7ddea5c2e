// Wire types of the registrar REST API as the console uses them.
// Timestamps are milliseconds since the epoch (as in the enrollment and MQTT contracts).

export type OrgRole = 'owner' | 'admin' | 'member';

export interface User {
  id: string;
  email: string;
  name: string;
}

export interface Membership {
  orgId: string;
  orgName: string;
  role: OrgRole;
}

export interface Me {
  user: User;
  memberships: Membership[];
}

export interface Org {
  id: string;
  name: string;
}

export type DeviceStatus = 'online' | 'offline';

export interface Device {
  id: string;
  orgId: string;
  name: string;
  tags: string[];
  status: DeviceStatus;
  lastSeenAt: number | null;
  agentVersion: string | null;
  /** SHA-256 of the device's Ed25519 public key, RFC 4648 base32 without padding. */
  fingerprint: string;
  enrolledAt: number;
  revokedAt: number | null;
}

export interface DevicePatch {
  name?: string;
  tags?: string[];
}

export interface ClaimCode {
  id: string;
  /** Name given to the device that enrolls with this code, if any. */
  name: string | null;
  tags: string[];
  createdAt: number;
  expiresAt: number;
  usedAt: number | null;
  revokedAt: number | null;
}

/** Returned once, at creation: the only time the secret code is visible. */
export interface CreatedClaimCode extends ClaimCode {
  code: string;
}

export interface CreateClaimCodeInput {
  expiresInSeconds: number;
  tags: string[];
  name?: string;
}

export type GrantTarget = { kind: 'device'; deviceId: string } | { kind: 'tag'; tag: string };
export type GrantRole = 'viewer' | 'operator';

export interface Grant {
  id: string;
  userId: string;
  target: GrantTarget;
  role: GrantRole;
  createdAt: number;
  expiresAt: number | null;
}

export interface CreateGrantInput {
  userId: string;
  target: GrantTarget;
  role: GrantRole;
  expiresAt: number | null;
}

export interface GrantPatch {
  role?: GrantRole;
  expiresAt?: number | null;
}

export interface Member {
  userId: string;
  email: string;
  name: string;
  role: OrgRole;
  joinedAt: number;
}

export interface Invite {
  id: string;
  email: string;
  role: OrgRole;
  createdAt: number;
  expiresAt: number;
}

export interface CreateInviteInput {
  email: string;
  role: OrgRole;
}

export interface AuditEvent {
  id: string;
  ts: number;
  /** e.g. `auth.login`, `device.rename`, `session.request`, `peer-http.request`. */
  action: string;
  actor: { kind: 'user' | 'device' | 'system'; id: string; label: string };
  deviceId: string | null;
  detail: Record<string, unknown>;
}

export interface AuditQuery {
  action?: string;
  actorId?: string;
  deviceId?: string;
  from?: number;
  to?: number;
  cursor?: string;
  limit?: number;
}

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

export interface IceServer {
  urls: string | string[];
  username?: string;
  credential?: string;
}

export interface SessionRequest {
  deviceId: string;
  /** The console's ephemeral session public key (Ed25519 JWK), bound into the grant. */
  sessionKey: JsonWebKey;
}

export interface SessionTicket {
  sessionId: string;
  /** Session grant (JWS) signed by the registrar. */
  grant: string;
  iceServers: IceServer[];
}
