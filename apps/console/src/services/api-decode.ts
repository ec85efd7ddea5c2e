// Decoders for registrar responses: the boundary where untrusted JSON becomes the
// console's types. A mismatch throws DecodeError (reported as ApiError BAD_RESPONSE).
import type {
  AuditEvent,
  ClaimCode,
  ClaimCodeState,
  CreatedClaimCode,
  Device,
  DeviceHealth,
  DevicePage,
  DeviceStatus,
  Grant,
  GrantRole,
  Group,
  Invite,
  InviteAccepted,
  InvitePreview,
  InviteState,
  Me,
  Membership,
  OrgRole,
  OrgUser,
  Page,
  SessionTicket,
} from './api-types.js';

export class DecodeError extends Error {
  override readonly name = 'DecodeError';
}

type Obj = Record<string, unknown>;

function obj(v: unknown, at: string): Obj {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) {
    throw new DecodeError(`${at}: expected an object`);
  }
  return v as Obj;
}
function str(o: Obj, k: string, at: string): string {
  const v = o[k];
  if (typeof v !== 'string') throw new DecodeError(`${at}.${k}: expected a string`);
  return v;
}
function optStr(o: Obj, k: string, at: string): string | null {
  const v = o[k];
  if (v === null || v === undefined) return null;
  if (typeof v !== 'string') throw new DecodeError(`${at}.${k}: expected a string or null`);
  return v;
}
function num(o: Obj, k: string, at: string): number {
  const v = o[k];
  if (typeof v !== 'number' || !Number.isFinite(v)) {
    throw new DecodeError(`${at}.${k}: expected a number`);
  }
  return v;
}
/** ISO 8601 timestamp → ms. */
function time(o: Obj, k: string, at: string): number {
  const ms = Date.parse(str(o, k, at));
  if (Number.isNaN(ms)) throw new DecodeError(`${at}.${k}: expected an ISO timestamp`);
  return ms;
}
function optTime(o: Obj, k: string, at: string): number | null {
  return optStr(o, k, at) === null ? null : time(o, k, at);
}
function oneOf<T extends string>(o: Obj, k: string, values: readonly T[], at: string): T {
  const v = str(o, k, at);
  if (!(values as readonly string[]).includes(v)) {
    throw new DecodeError(`${at}.${k}: unexpected value ${JSON.stringify(v)}`);
  }
  return v as T;
}
function arr<T>(v: unknown, at: string, item: (x: unknown, at: string) => T): T[] {
  if (!Array.isArray(v)) throw new DecodeError(`${at}: expected an array`);
  return v.map((x, i) => item(x, `${at}[${i}]`));
}
const strings = (v: unknown, at: string) =>
  arr(v, at, (x, a) => {
    if (typeof x !== 'string') throw new DecodeError(`${a}: expected a string`);
    return x;
  });

const ORG_ROLES: readonly OrgRole[] = ['owner', 'admin', 'member'];
const DEVICE_STATUSES: readonly DeviceStatus[] = ['online', 'offline', 'revoked'];
const CLAIM_STATES: readonly ClaimCodeState[] = ['active', 'used', 'expired', 'revoked'];
const GRANT_ROLES: readonly GrantRole[] = ['viewer', 'operator', 'admin'];
const INVITE_STATES: readonly InviteState[] = ['pending', 'accepted', 'expired', 'revoked'];

function membership(v: unknown, at: string): Membership {
  const o = obj(v, at);
  return {
    orgId: str(o, 'orgId', at),
    orgName: str(o, 'orgName', at),
    role: oneOf(o, 'role', ORG_ROLES, at),
  };
}

/** `POST /api/auth/login` and `GET /api/auth/me` (the login token is ignored: cookie auth). */
export function decodeMe(v: unknown, at = 'me'): Me {
  const o = obj(v, at);
  const u = obj(o['user'], `${at}.user`);
  return {
    user: {
      id: str(u, 'id', `${at}.user`),
      email: str(u, 'email', `${at}.user`),
      name: str(u, 'name', `${at}.user`),
    },
    orgId: str(o, 'orgId', at),
    role: oneOf(o, 'role', ORG_ROLES, at),
    memberships: arr(o['memberships'], `${at}.memberships`, membership),
  };
}

/** Heartbeat metrics are informational: unknown or malformed fields read as null. */
function health(v: unknown): DeviceHealth | null {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return null;
  const o = v as Obj;
  const n = (k: string) => {
    const x = o[k];
    return typeof x === 'number' && Number.isFinite(x) ? x : null;
  };
  return {
    ts: n('ts'),
    uptimeS: n('uptimeS'),
    load1: n('load1'),
    memUsedBytes: n('memUsedBytes'),
    memTotalBytes: n('memTotalBytes'),
    diskFreeBytes: n('diskFreeBytes'),
    tempC: n('tempC'),
    sessions: n('sessions'),
  };
}

export function decodeDevice(v: unknown, at = 'device'): Device {
  const o = obj(v, at);
  return {
    id: str(o, 'id', at),
    orgId: str(o, 'orgId', at),
    name: str(o, 'name', at),
    tags: strings(o['tags'], `${at}.tags`),
    status: oneOf(o, 'status', DEVICE_STATUSES, at),
    lastSeenAt: optTime(o, 'lastSeenAt', at),
    agentVersion: str(o, 'agentVersion', at),
    fingerprint: str(o, 'keyFingerprint', at),
    createdAt: time(o, 'createdAt', at),
    revokedAt: optTime(o, 'revokedAt', at),
    health: health(o['metrics']),
  };
}

export function decodeDevicePage(v: unknown, at = 'devices'): DevicePage {
  const o = obj(v, at);
  return { items: arr(o['items'], `${at}.items`, decodeDevice), total: num(o, 'total', at) };
}

export function decodeClaimCode(v: unknown, at = 'claimCode'): ClaimCode {
  const o = obj(v, at);
  return {
    id: str(o, 'id', at),
    label: optStr(o, 'label', at),
    tags: strings(o['tags'], `${at}.tags`),
    createdAt: time(o, 'createdAt', at),
    expiresAt: time(o, 'expiresAt', at),
    usedAt: optTime(o, 'usedAt', at),
    usedByDevice: optStr(o, 'usedByDevice', at),
    revokedAt: optTime(o, 'revokedAt', at),
    state: oneOf(o, 'state', CLAIM_STATES, at),
  };
}

export function decodeCreatedClaimCode(v: unknown, at = 'claimCode'): CreatedClaimCode {
  return { ...decodeClaimCode(v, at), code: str(obj(v, at), 'code', at) };
}

export function decodeGrant(v: unknown, at = 'grant'): Grant {
  const o = obj(v, at);
  const userId = optStr(o, 'userId', at);
  const groupId = optStr(o, 'groupId', at);
  const deviceId = optStr(o, 'deviceId', at);
  const deviceTag = optStr(o, 'deviceTag', at);
  if ((userId === null) === (groupId === null)) {
    throw new DecodeError(`${at}: exactly one of userId and groupId must be set`);
  }
  if ((deviceId === null) === (deviceTag === null)) {
    throw new DecodeError(`${at}: exactly one of deviceId and deviceTag must be set`);
  }
  return {
    id: str(o, 'id', at),
    subject: userId !== null ? { kind: 'user', userId } : { kind: 'group', groupId: groupId ?? '' },
    target:
      deviceId !== null ? { kind: 'device', deviceId } : { kind: 'tag', tag: deviceTag ?? '' },
    role: oneOf(o, 'role', GRANT_ROLES, at),
    createdBy: optStr(o, 'createdBy', at),
    createdAt: time(o, 'createdAt', at),
  };
}

export function decodeGroup(v: unknown, at = 'group'): Group {
  const o = obj(v, at);
  return {
    id: str(o, 'id', at),
    name: str(o, 'name', at),
    createdAt: time(o, 'createdAt', at),
    memberIds: strings(o['memberIds'], `${at}.memberIds`),
    memberCount: num(o, 'memberCount', at),
  };
}

export function decodeOrgUser(v: unknown, at = 'user'): OrgUser {
  const o = obj(v, at);
  return {
    id: str(o, 'id', at),
    email: str(o, 'email', at),
    name: str(o, 'name', at),
    role: oneOf(o, 'role', ORG_ROLES, at),
    createdAt: time(o, 'createdAt', at),
  };
}

export function decodeInvite(v: unknown, at = 'invite'): Invite {
  const o = obj(v, at);
  return {
    id: str(o, 'id', at),
    email: str(o, 'email', at),
    role: oneOf(o, 'role', ORG_ROLES, at),
    invitedBy: optStr(o, 'invitedBy', at),
    createdAt: time(o, 'createdAt', at),
    expiresAt: time(o, 'expiresAt', at),
    acceptedAt: optTime(o, 'acceptedAt', at),
    acceptedBy: optStr(o, 'acceptedBy', at),
    revokedAt: optTime(o, 'revokedAt', at),
    state: oneOf(o, 'state', INVITE_STATES, at),
  };
}

export function decodeCreatedInvite(v: unknown, at = 'invite'): Invite & { token: string } {
  return { ...decodeInvite(v, at), token: str(obj(v, at), 'token', at) };
}

export function decodeInvitePreview(v: unknown, at = 'invite'): InvitePreview {
  const o = obj(v, at);
  if (typeof o['existingUser'] !== 'boolean') {
    throw new DecodeError(`${at}.existingUser: expected a boolean`);
  }
  return {
    orgName: str(o, 'orgName', at),
    email: str(o, 'email', at),
    role: oneOf(o, 'role', ORG_ROLES, at),
    expiresAt: time(o, 'expiresAt', at),
    existingUser: o['existingUser'],
  };
}

export function decodeInviteAccepted(v: unknown, at = 'accepted'): InviteAccepted {
  const o = obj(v, at);
  if (typeof o['accountCreated'] !== 'boolean') {
    throw new DecodeError(`${at}.accountCreated: expected a boolean`);
  }
  return {
    orgId: str(o, 'orgId', at),
    orgName: str(o, 'orgName', at),
    email: str(o, 'email', at),
    role: oneOf(o, 'role', ORG_ROLES, at),
    accountCreated: o['accountCreated'],
  };
}

export function decodeAuditEvent(v: unknown, at = 'event'): AuditEvent {
  const o = obj(v, at);
  return {
    id: str(o, 'id', at),
    ts: time(o, 'ts', at),
    actorType: str(o, 'actorType', at),
    actorId: optStr(o, 'actorId', at),
    action: str(o, 'action', at),
    targetType: optStr(o, 'targetType', at),
    targetId: optStr(o, 'targetId', at),
    details: o['details'] ?? null,
    sourceIp: optStr(o, 'sourceIp', at),
  };
}

export function decodeAuditPage(v: unknown, at = 'audit'): Page<AuditEvent> {
  const o = obj(v, at);
  return {
    items: arr(o['items'], `${at}.items`, decodeAuditEvent),
    nextCursor: optStr(o, 'nextCursor', at),
  };
}

export function decodeSessionTicket(v: unknown, at = 'session'): SessionTicket {
  const o = obj(v, at);
  return {
    sessionId: str(o, 'sessionId', at),
    grant: str(o, 'grant', at),
    ...(o['role'] === 'viewer' || o['role'] === 'operator' || o['role'] === 'admin'
      ? { role: o['role'] }
      : {}),
    iceServers: arr(o['iceServers'], `${at}.iceServers`, (x, a) => {
      const s = obj(x, a);
      const urls = s['urls'];
      if (typeof urls !== 'string' && !Array.isArray(urls)) {
        throw new DecodeError(`${a}.urls: expected a string or an array`);
      }
      return {
        urls: typeof urls === 'string' ? urls : strings(urls, `${a}.urls`),
        ...(typeof s['username'] === 'string' ? { username: s['username'] } : {}),
        ...(typeof s['credential'] === 'string' ? { credential: s['credential'] } : {}),
      };
    }),
  };
}

export const decodeList =
  <T>(item: (v: unknown, at: string) => T, at: string) =>
  (v: unknown): T[] =>
    arr(v, at, item);
