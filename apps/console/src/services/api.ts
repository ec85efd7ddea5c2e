// Typed client for the registrar REST API (apps/registrar, global prefix /api). The only
// code that knows URLs, methods and wire shapes. Cookie-authenticated: the session cookie
// is httpOnly and set by the registrar; the token in the login answer is not kept.
// Every failure is an ApiError; a 401 on an authenticated call also fires
// `onUnauthorized` (the app redirects to sign-in).
import type { RegistrarHttp } from '../platform/index.js';
import { ApiError } from './api-error.js';
import {
  DecodeError,
  decodeAuditPage,
  decodeClaimCode,
  decodeCreatedClaimCode,
  decodeDevice,
  decodeDevicePage,
  decodeCreatedInvite,
  decodeGrant,
  decodeGroup,
  decodeInvite,
  decodeInviteAccepted,
  decodeInvitePreview,
  decodeList,
  decodeMe,
  decodeOrgUser,
  decodeSessionTicket,
} from './api-decode.js';
import type {
  AcceptInviteInput,
  AuditEvent,
  AuditQuery,
  ClaimCode,
  CreateClaimCodeInput,
  CreatedClaimCode,
  CreateGrantInput,
  CreatedInvite,
  CreateInviteInput,
  CreateUserInput,
  Device,
  DevicePage,
  DeviceQuery,
  Grant,
  GrantRole,
  Group,
  Invite,
  InviteAccepted,
  InvitePreview,
  Me,
  OrgRole,
  OrgUser,
  Page,
  SessionRequest,
  SessionTicket,
} from './api-types.js';

export { ApiError } from './api-error.js';
export type * from './api-types.js';

type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
type Query = Record<string, string | number | undefined>;

interface CallOptions {
  body?: unknown;
  query?: Query;
  /** A 401 here is an expected answer (sign-in, session probe), not an expired session. */
  anonymous?: boolean;
}

const seg = (value: string) => encodeURIComponent(value);
const iso = (ms: number | undefined) => (ms === undefined ? undefined : new Date(ms).toISOString());
const none = (): void => undefined;

export class ApiClient {
  /** Called on a 401 from an authenticated call. */
  onUnauthorized: (error: ApiError) => void = () => undefined;

  constructor(private readonly http: RegistrarHttp) {}

  get baseUrl(): string {
    return this.http.baseUrl;
  }

  // --- auth ---------------------------------------------------------------------- /api/auth
  /** Signs in to `orgId`, or to the user's first organisation. */
  login(email: string, password: string, orgId?: string): Promise<Me> {
    return this.call('POST', '/api/auth/login', decodeMe, {
      body: { email, password, ...(orgId ? { orgId } : {}) },
      anonymous: true,
    });
  }
  logout(): Promise<void> {
    return this.call('POST', '/api/auth/logout', none, { anonymous: true });
  }
  /** The signed-in session, or null when there is none. */
  async me(): Promise<Me | null> {
    try {
      return await this.call('GET', '/api/auth/me', decodeMe, { anonymous: true });
    } catch (error) {
      if (error instanceof ApiError && error.status === 401) return null;
      throw error;
    }
  }

  // --- devices ---------------------------------------------------------------- /api/devices
  listDevices(query: DeviceQuery = {}): Promise<DevicePage> {
    return this.call('GET', '/api/devices', decodeDevicePage, { query: { ...query } });
  }
  getDevice(id: string): Promise<Device> {
    return this.call('GET', `/api/devices/${seg(id)}`, decodeDevice);
  }
  renameDevice(id: string, name: string): Promise<Device> {
    return this.call('PATCH', `/api/devices/${seg(id)}`, decodeDevice, { body: { name } });
  }
  /** Replaces the device's tags. */
  setDeviceTags(id: string, tags: string[]): Promise<Device> {
    return this.call('PUT', `/api/devices/${seg(id)}/tags`, decodeDevice, { body: { tags } });
  }
  /** Revokes the device's key: it can never enroll or connect again. */
  revokeDevice(id: string, reason?: string): Promise<Device> {
    return this.call('POST', `/api/devices/${seg(id)}/revoke`, decodeDevice, {
      body: reason ? { reason } : {},
    });
  }
  deleteDevice(id: string): Promise<void> {
    return this.call('DELETE', `/api/devices/${seg(id)}`, none);
  }

  // --- claim codes -------------------------------------------------------- /api/claim-codes
  createClaimCode(input: CreateClaimCodeInput): Promise<CreatedClaimCode> {
    return this.call('POST', '/api/claim-codes', decodeCreatedClaimCode, { body: input });
  }
  listClaimCodes(): Promise<ClaimCode[]> {
    return this.call('GET', '/api/claim-codes', decodeList(decodeClaimCode, 'claimCodes'));
  }
  revokeClaimCode(id: string): Promise<ClaimCode> {
    return this.call('POST', `/api/claim-codes/${seg(id)}/revoke`, decodeClaimCode);
  }

  // --- grants ------------------------------------------------------------------ /api/grants
  listGrants(filter: { userId?: string; deviceId?: string } = {}): Promise<Grant[]> {
    return this.call('GET', '/api/grants', decodeList(decodeGrant, 'grants'), {
      query: { ...filter },
    });
  }
  createGrant(input: CreateGrantInput): Promise<Grant> {
    const { subject, target, role } = input;
    return this.call('POST', '/api/grants', decodeGrant, {
      body: {
        ...(subject.kind === 'user' ? { userId: subject.userId } : { groupId: subject.groupId }),
        ...(target.kind === 'device' ? { deviceId: target.deviceId } : { deviceTag: target.tag }),
        role,
      },
    });
  }
  updateGrantRole(id: string, role: GrantRole): Promise<Grant> {
    return this.call('PATCH', `/api/grants/${seg(id)}`, decodeGrant, { body: { role } });
  }
  deleteGrant(id: string): Promise<void> {
    return this.call('DELETE', `/api/grants/${seg(id)}`, none);
  }

  // --- groups ------------------------------------------------------------------ /api/groups
  listGroups(): Promise<Group[]> {
    return this.call('GET', '/api/groups', decodeList(decodeGroup, 'groups'));
  }
  createGroup(name: string): Promise<Group> {
    return this.call('POST', '/api/groups', decodeGroup, { body: { name } });
  }
  renameGroup(id: string, name: string): Promise<Group> {
    return this.call('PATCH', `/api/groups/${seg(id)}`, decodeGroup, { body: { name } });
  }
  /** Deletes the group; its grants go with it. */
  deleteGroup(id: string): Promise<void> {
    return this.call('DELETE', `/api/groups/${seg(id)}`, none);
  }
  /** Puts a member of the organisation in the group (no change when already in it). */
  addGroupMember(groupId: string, userId: string): Promise<Group> {
    return this.call('PUT', `/api/groups/${seg(groupId)}/members/${seg(userId)}`, decodeGroup);
  }
  removeGroupMember(groupId: string, userId: string): Promise<Group> {
    return this.call('DELETE', `/api/groups/${seg(groupId)}/members/${seg(userId)}`, decodeGroup);
  }

  // --- users -------------------------------------------------------------------- /api/users
  listUsers(): Promise<OrgUser[]> {
    return this.call('GET', '/api/users', decodeList(decodeOrgUser, 'users'));
  }
  createUser(input: CreateUserInput): Promise<OrgUser> {
    return this.call('POST', '/api/users', decodeOrgUser, { body: input });
  }
  /** Changes a member's role (not your own, not above your own). */
  setUserRole(id: string, role: OrgRole): Promise<OrgUser> {
    return this.call('PATCH', `/api/users/${seg(id)}`, decodeOrgUser, { body: { role } });
  }
  /** Removes a member: their grants and group memberships go, their login sessions end. */
  removeUser(id: string): Promise<void> {
    return this.call('DELETE', `/api/users/${seg(id)}`, none);
  }

  // --- invitations ---------------------------------------------------------- /api/invites
  createInvite(input: CreateInviteInput): Promise<CreatedInvite> {
    return this.call('POST', '/api/invites', decodeCreatedInvite, { body: input });
  }
  listInvites(): Promise<Invite[]> {
    return this.call('GET', '/api/invites', decodeList(decodeInvite, 'invites'));
  }
  revokeInvite(id: string): Promise<Invite> {
    return this.call('POST', `/api/invites/${seg(id)}/revoke`, decodeInvite);
  }
  /** Public: what an invitation link is for. The token goes in the body, never a URL. */
  previewInvite(token: string): Promise<InvitePreview> {
    return this.call('POST', '/api/invites/preview', decodeInvitePreview, {
      body: { token },
      anonymous: true,
    });
  }
  /** Public: accepts an invitation (then sign in with the same e-mail and password). */
  acceptInvite(input: AcceptInviteInput): Promise<InviteAccepted> {
    return this.call('POST', '/api/invites/accept', decodeInviteAccepted, {
      body: input,
      anonymous: true,
    });
  }

  // --- audit -------------------------------------------------------------------- /api/audit
  queryAudit(query: AuditQuery = {}): Promise<Page<AuditEvent>> {
    const { since, until, ...rest } = query;
    return this.call('GET', '/api/audit', decodeAuditPage, {
      query: { ...rest, since: iso(since), until: iso(until) },
    });
  }

  // --- sessions ------------------------------------------------------------- /api/sessions
  requestSession(request: SessionRequest): Promise<SessionTicket> {
    return this.call('POST', '/api/sessions', decodeSessionTicket, { body: request });
  }

  // --- plumbing ---------------------------------------------------------------------------
  private async call<T>(
    method: Method,
    path: string,
    decode: (body: unknown) => T,
    options: CallOptions = {},
  ): Promise<T> {
    const params = new URLSearchParams();
    for (const [key, value] of Object.entries(options.query ?? {})) {
      if (value !== undefined && value !== '') params.set(key, String(value));
    }
    const url = params.size > 0 ? `${path}?${params.toString()}` : path;
    const headers: Record<string, string> = { accept: 'application/json' };
    const init: RequestInit = { method, headers };
    if (options.body !== undefined) {
      headers['content-type'] = 'application/json';
      init.body = JSON.stringify(options.body);
    }
    let response: Response;
    try {
      response = await this.http.request(url, init);
    } catch (cause) {
      throw ApiError.network(cause);
    }
    if (!response.ok) {
      const error = await ApiError.fromResponse(response);
      if (error.status === 401 && !options.anonymous) this.onUnauthorized(error);
      throw error;
    }
    const text = response.status === 204 ? '' : await response.text();
    let body: unknown = undefined;
    if (text !== '') {
      try {
        body = JSON.parse(text);
      } catch {
        throw new ApiError(
          response.status,
          'BAD_RESPONSE',
          'The registrar sent an unreadable answer.',
        );
      }
    }
    try {
      return decode(body);
    } catch (e) {
      if (e instanceof DecodeError) {
        throw new ApiError(
          response.status,
          'BAD_RESPONSE',
          `Unexpected answer from the registrar (${e.message}).`,
        );
      }
      throw e;
    }
  }
}
