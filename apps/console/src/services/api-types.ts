// The console's view of the registrar's data. The wire shapes (apps/registrar
// src/*/*.types.ts: ISO timestamps, nullable columns) are decoded into these by
// api-decode.ts; timestamps here are milliseconds since the epoch.

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

/** The signed-in session: one user in one organisation. */
export interface Me {
  user: User;
  orgId: string;
  role: OrgRole;
  memberships: Membership[];
}

export type DeviceStatus = 'online' | 'offline' | 'revoked';

export interface Device {
  id: string;
  orgId: string;
  name: string;
  tags: string[];
  status: DeviceStatus;
  lastSeenAt: number | null;
  agentVersion: string;
  /** SHA-256 of the device's Ed25519 public key, base64url (as the registrar stores it). */
  fingerprint: string;
  createdAt: number;
  revokedAt: number | null;
  /** The agent's last heartbeat, when it sent one. */
  health: DeviceHealth | null;
}

/** Heartbeat figures (MQTT `pf/v1/dev/{D}/heartbeat`, kept by the registrar). */
export interface DeviceHealth {
  /** When the agent measured them (ms). */
  ts: number | null;
  uptimeS: number | null;
  load1: number | null;
  memUsedBytes: number | null;
  memTotalBytes: number | null;
  diskFreeBytes: number | null;
  tempC: number | null;
  sessions: number | null;
}

export interface DeviceQuery {
  tag?: string;
  status?: DeviceStatus;
  search?: string;
  limit?: number;
  offset?: number;
}

export interface DevicePage {
  items: Device[];
  total: number;
}

export type ClaimCodeState = 'active' | 'used' | 'expired' | 'revoked';

export interface ClaimCode {
  id: string;
  /** Becomes the device's name by default. */
  label: string | null;
  tags: string[];
  createdAt: number;
  expiresAt: number;
  usedAt: number | null;
  usedByDevice: string | null;
  revokedAt: number | null;
  state: ClaimCodeState;
}

/** Returned once, at creation: the only time the secret code is visible. */
export interface CreatedClaimCode extends ClaimCode {
  code: string;
}

export interface CreateClaimCodeInput {
  label?: string;
  tags?: string[];
  /** 1 … 8760; the registrar defaults to 24. */
  ttlHours?: number;
}

export type GrantRole = 'viewer' | 'operator' | 'admin';
export type GrantSubject = { kind: 'user'; userId: string } | { kind: 'group'; groupId: string };
export type GrantTarget = { kind: 'device'; deviceId: string } | { kind: 'tag'; tag: string };

export interface Grant {
  id: string;
  subject: GrantSubject;
  target: GrantTarget;
  role: GrantRole;
  createdBy: string | null;
  createdAt: number;
}

export interface CreateGrantInput {
  subject: GrantSubject;
  target: GrantTarget;
  role: GrantRole;
}

/** A group of people in the organisation: a grant to it applies to each member. */
export interface Group {
  id: string;
  name: string;
  createdAt: number;
  /** Everyone, for an admin; a member listing their own groups sees only themselves. */
  memberIds: string[];
  memberCount: number;
}

export interface OrgUser {
  id: string;
  email: string;
  name: string;
  role: OrgRole;
  createdAt: number;
}

export interface CreateUserInput {
  email: string;
  name: string;
  /** Initial password, set by the admin (the alternative to an invitation). */
  password: string;
  role: OrgRole;
}

export type InviteState = 'pending' | 'accepted' | 'expired' | 'revoked';

export interface Invite {
  id: string;
  email: string;
  role: OrgRole;
  invitedBy: string | null;
  createdAt: number;
  expiresAt: number;
  acceptedAt: number | null;
  acceptedBy: string | null;
  revokedAt: number | null;
  state: InviteState;
}

/** The answer to creating an invitation: the only time the token is shown. */
export interface CreatedInvite extends Invite {
  token: string;
}

export interface CreateInviteInput {
  email: string;
  role: OrgRole;
  ttlHours?: number;
}

/** What a valid invitation token is for (the accept page shows it before committing). */
export interface InvitePreview {
  orgName: string;
  email: string;
  role: OrgRole;
  expiresAt: number;
  /** The e-mail already has an account: accepting takes that account's password. */
  existingUser: boolean;
}

export interface AcceptInviteInput {
  token: string;
  /** New accounts only. */
  name?: string;
  password: string;
}

export interface InviteAccepted {
  orgId: string;
  orgName: string;
  email: string;
  role: OrgRole;
  accountCreated: boolean;
}

export type ActorType = 'user' | 'device' | 'system' | 'anonymous';

export interface AuditEvent {
  id: string;
  ts: number;
  actorType: ActorType | (string & {});
  actorId: string | null;
  /** `scope.verb`, e.g. `auth.login`, `device.rename`, `grant.create`. */
  action: string;
  targetType: string | null;
  targetId: string | null;
  details: unknown;
  sourceIp: string | null;
}

export interface AuditQuery {
  /** Exact `scope.verb`. */
  action?: string;
  actorId?: string;
  targetId?: string;
  since?: number;
  until?: number;
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
  /** The role the grant carries (the registrar always says; older fakes may not). */
  role?: GrantRole;
  iceServers: IceServer[];
}
