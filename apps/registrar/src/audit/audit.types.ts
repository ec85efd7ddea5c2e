export type ActorType = 'user' | 'device' | 'system' | 'anonymous';

/** Actions recorded in the audit log (security-relevant events). */
export type AuditAction =
  | 'auth.login'
  | 'auth.login_failed'
  | 'auth.logout'
  | 'auth.password_change'
  | 'org.bootstrap'
  | 'org.settings'
  | 'session.request'
  | 'session.refused'
  | 'session.signal'
  | 'session.connected'
  | 'user.create'
  | 'user.role_change'
  | 'user.remove'
  | 'invite.create'
  | 'invite.revoke'
  | 'invite.accept'
  | 'invite.accept_failed'
  | 'device.enroll'
  | 'device.enroll_refused'
  | 'device.rename'
  | 'device.tag'
  | 'device.revoke_key'
  | 'device.delete'
  | 'device.request'
  | 'claim_code.create'
  | 'claim_code.revoke'
  | 'grant.create'
  | 'grant.update'
  | 'grant.delete'
  | 'group.create'
  | 'group.rename'
  | 'group.delete'
  | 'group.member_add'
  | 'group.member_remove';

export interface AuditEntry {
  orgId: string | null;
  actorType: ActorType;
  actorId: string | null;
  action: AuditAction;
  targetType?: string | null;
  targetId?: string | null;
  details?: Record<string, unknown>;
  sourceIp: string | null;
}

export interface AuditEventView {
  id: string;
  ts: string;
  actorType: string;
  actorId: string | null;
  action: string;
  targetType: string | null;
  targetId: string | null;
  details: unknown;
  sourceIp: string | null;
}

export interface AuditQuery {
  orgId: string;
  action?: string | undefined;
  actorId?: string | undefined;
  targetId?: string | undefined;
  since?: Date | undefined;
  until?: Date | undefined;
  /** Return events with id < before (keyset pagination, newest first). */
  before?: bigint | undefined;
  limit: number;
}
