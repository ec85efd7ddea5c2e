// Typed client for the registrar REST API. The only code that knows URLs and methods.
// Cookie-authenticated (the platform sends credentials). Every failure is an ApiError;
// a 401 on an authenticated call also fires `onUnauthorized` (the app redirects to sign-in).
import type { RegistrarHttp } from '../platform/index.js';
import { ApiError } from './api-error.js';
import type {
  AuditEvent,
  AuditQuery,
  ClaimCode,
  CreateClaimCodeInput,
  CreatedClaimCode,
  CreateGrantInput,
  CreateInviteInput,
  Device,
  DevicePatch,
  Grant,
  GrantPatch,
  Invite,
  Me,
  Member,
  Org,
  Page,
  SessionRequest,
  SessionTicket,
} from './api-types.js';

export { ApiError } from './api-error.js';
export type * from './api-types.js';

type Method = 'GET' | 'POST' | 'PATCH' | 'DELETE';

interface CallOptions {
  body?: unknown;
  query?: Record<string, string | number | undefined>;
  /** A 401 here is an expected answer (sign-in, session probe), not an expired session. */
  anonymous?: boolean;
}

const seg = (value: string) => encodeURIComponent(value);

export class ApiClient {
  /** Called on a 401 from an authenticated call. */
  onUnauthorized: (error: ApiError) => void = () => undefined;

  constructor(private readonly http: RegistrarHttp) {}

  get baseUrl(): string {
    return this.http.baseUrl;
  }

  // --- auth -------------------------------------------------------------------------------
  login(email: string, password: string): Promise<Me> {
    return this.call('POST', '/api/auth/login', { body: { email, password }, anonymous: true });
  }
  logout(): Promise<void> {
    return this.call('POST', '/api/auth/logout', { anonymous: true });
  }
  /** The signed-in user, or null when there is no valid session. */
  async me(): Promise<Me | null> {
    try {
      return await this.call<Me>('GET', '/api/auth/me', { anonymous: true });
    } catch (error) {
      if (error instanceof ApiError && error.status === 401) return null;
      throw error;
    }
  }

  // --- orgs -------------------------------------------------------------------------------
  listOrgs(): Promise<Org[]> {
    return this.call('GET', '/api/orgs');
  }

  // --- devices ----------------------------------------------------------------------------
  listDevices(orgId: string): Promise<Device[]> {
    return this.call('GET', `/api/orgs/${seg(orgId)}/devices`);
  }
  getDevice(orgId: string, deviceId: string): Promise<Device> {
    return this.call('GET', `/api/orgs/${seg(orgId)}/devices/${seg(deviceId)}`);
  }
  updateDevice(orgId: string, deviceId: string, patch: DevicePatch): Promise<Device> {
    return this.call('PATCH', `/api/orgs/${seg(orgId)}/devices/${seg(deviceId)}`, {
      body: patch,
    });
  }
  renameDevice(orgId: string, deviceId: string, name: string): Promise<Device> {
    return this.updateDevice(orgId, deviceId, { name });
  }
  setDeviceTags(orgId: string, deviceId: string, tags: string[]): Promise<Device> {
    return this.updateDevice(orgId, deviceId, { tags });
  }
  deleteDevice(orgId: string, deviceId: string): Promise<void> {
    return this.call('DELETE', `/api/orgs/${seg(orgId)}/devices/${seg(deviceId)}`);
  }
  /** Revokes the device's credentials; it stays listed as revoked. */
  revokeDevice(orgId: string, deviceId: string): Promise<Device> {
    return this.call('POST', `/api/orgs/${seg(orgId)}/devices/${seg(deviceId)}/revoke`);
  }

  // --- claim codes ------------------------------------------------------------------------
  createClaimCode(orgId: string, input: CreateClaimCodeInput): Promise<CreatedClaimCode> {
    return this.call('POST', `/api/orgs/${seg(orgId)}/claim-codes`, { body: input });
  }
  listClaimCodes(orgId: string): Promise<ClaimCode[]> {
    return this.call('GET', `/api/orgs/${seg(orgId)}/claim-codes`);
  }
  revokeClaimCode(orgId: string, id: string): Promise<void> {
    return this.call('DELETE', `/api/orgs/${seg(orgId)}/claim-codes/${seg(id)}`);
  }

  // --- grants -----------------------------------------------------------------------------
  listGrants(orgId: string, filter: { deviceId?: string; tag?: string } = {}): Promise<Grant[]> {
    return this.call('GET', `/api/orgs/${seg(orgId)}/grants`, { query: filter });
  }
  createGrant(orgId: string, input: CreateGrantInput): Promise<Grant> {
    return this.call('POST', `/api/orgs/${seg(orgId)}/grants`, { body: input });
  }
  updateGrant(orgId: string, id: string, patch: GrantPatch): Promise<Grant> {
    return this.call('PATCH', `/api/orgs/${seg(orgId)}/grants/${seg(id)}`, { body: patch });
  }
  deleteGrant(orgId: string, id: string): Promise<void> {
    return this.call('DELETE', `/api/orgs/${seg(orgId)}/grants/${seg(id)}`);
  }

  // --- users and invites ------------------------------------------------------------------
  listMembers(orgId: string): Promise<Member[]> {
    return this.call('GET', `/api/orgs/${seg(orgId)}/members`);
  }
  listInvites(orgId: string): Promise<Invite[]> {
    return this.call('GET', `/api/orgs/${seg(orgId)}/invites`);
  }
  createInvite(orgId: string, input: CreateInviteInput): Promise<Invite> {
    return this.call('POST', `/api/orgs/${seg(orgId)}/invites`, { body: input });
  }
  revokeInvite(orgId: string, id: string): Promise<void> {
    return this.call('DELETE', `/api/orgs/${seg(orgId)}/invites/${seg(id)}`);
  }

  // --- audit ------------------------------------------------------------------------------
  queryAudit(orgId: string, query: AuditQuery = {}): Promise<Page<AuditEvent>> {
    return this.call('GET', `/api/orgs/${seg(orgId)}/audit`, { query: { ...query } });
  }

  // --- sessions (used by the device-session feature) --------------------------------------
  requestSession(request: SessionRequest): Promise<SessionTicket> {
    return this.call('POST', '/api/sessions', { body: request });
  }

  // --- plumbing ---------------------------------------------------------------------------
  private async call<T>(method: Method, path: string, options: CallOptions = {}): Promise<T> {
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
    if (response.status === 204) return undefined as T;
    const text = await response.text();
    if (text === '') return undefined as T;
    try {
      return JSON.parse(text) as T;
    } catch {
      throw new ApiError(
        response.status,
        'BAD_RESPONSE',
        'The registrar sent an unreadable answer.',
      );
    }
  }
}
