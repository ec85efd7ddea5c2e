// An in-memory registrar answering the console's REST calls with the wire shapes of
// apps/registrar (ISO timestamps, `{ items, total }` device pages, `{ statusCode, code,
// message, correlationId }` errors, org taken from the session, admin-only routes). It
// backs unit tests (through the platform test double) and the screenshot script (through
// Playwright request interception). It is not bundled into the app.

type Json = unknown;
type OrgRole = 'owner' | 'admin' | 'member';
type GrantRole = 'viewer' | 'operator' | 'admin';

interface FakeUser {
  id: string;
  email: string;
  name: string;
  password: string;
  createdAt: string;
}
interface FakeMembership {
  userId: string;
  orgId: string;
  role: OrgRole;
}
export interface WireDevice {
  id: string;
  orgId: string;
  name: string;
  tags: string[];
  publicKey: unknown;
  keyFingerprint: string;
  agentVersion: string;
  status: 'online' | 'offline' | 'revoked';
  lastSeenAt: string | null;
  metrics: unknown;
  revokedAt: string | null;
  createdAt: string;
  updatedAt: string;
}
interface WireClaimCode {
  id: string;
  orgId: string;
  code: string;
  label: string | null;
  tags: string[];
  expiresAt: string;
  usedAt: string | null;
  usedByDevice: string | null;
  revokedAt: string | null;
  createdAt: string;
}
interface WireGrant {
  id: string;
  orgId: string;
  subjectType: 'user' | 'group';
  userId: string | null;
  groupId: string | null;
  deviceId: string | null;
  deviceTag: string | null;
  role: GrantRole;
  createdBy: string | null;
  createdAt: string;
}
interface WireGroup {
  id: string;
  orgId: string;
  name: string;
  createdAt: string;
  /** The fake keeps the members on the group (the registrar: group_members rows). */
  memberIds: string[];
}
interface WireInvite {
  id: string;
  orgId: string;
  /** The fake keeps the token (the registrar keeps only its hash). */
  token: string;
  email: string;
  role: OrgRole;
  invitedBy: string | null;
  expiresAt: string;
  acceptedAt: string | null;
  acceptedBy: string | null;
  revokedAt: string | null;
  createdAt: string;
}
interface WireAudit {
  id: string;
  orgId: string;
  ts: string;
  actorType: string;
  actorId: string | null;
  action: string;
  targetType: string | null;
  targetId: string | null;
  details: unknown;
  sourceIp: string | null;
}

export interface FakeRegistrarState {
  orgs: { id: string; name: string }[];
  users: FakeUser[];
  memberships: FakeMembership[];
  devices: WireDevice[];
  claimCodes: WireClaimCode[];
  grants: WireGrant[];
  groups: WireGroup[];
  invites: WireInvite[];
  audit: WireAudit[];
}

interface Session {
  userId: string;
  orgId: string;
}

interface Ctx {
  params: string[];
  body: Json;
  url: URL;
  session: Session;
  role: OrgRole;
}
type Answer = { status: number; body?: Json };
type Route = [method: string, pattern: RegExp, handler: (ctx: Ctx) => Answer, access: Access];
type Access = 'public' | 'member' | 'admin';

const DAY = 86_400_000;
const TAG = /^[a-z0-9][a-z0-9._:-]{0,62}$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const ROLE_RANK: Record<OrgRole, number> = { member: 0, admin: 1, owner: 2 };
/** The registrar's NAME_PATTERN: no control or format characters. */
const NAME = /^[^\p{Cc}\p{Cf}]+$/u;

export const DEMO_IDS = {
  acme: '6f1c2d7e-0000-4000-8000-00000000a001',
  lab: '6f1c2d7e-0000-4000-8000-00000000a002',
  ada: '6f1c2d7e-0000-4000-8000-0000000000ad',
  bob: '6f1c2d7e-0000-4000-8000-0000000000b0',
  gate: '0b9f3c1e-4b1a-4a53-9d7e-1f2a3b4c5d01',
  dock: '0b9f3c1e-4b1a-4a53-9d7e-1f2a3b4c5d02',
  kiosk: '0b9f3c1e-4b1a-4a53-9d7e-1f2a3b4c5d03',
  nightShift: '5c5c5c5c-0000-4000-8000-000000000001',
  greenhouse: '0b9f3c1e-4b1a-4a53-9d7e-1f2a3b4c5d04',
  parking: '0b9f3c1e-4b1a-4a53-9d7e-1f2a3b4c5d05',
  bench: '0b9f3c1e-4b1a-4a53-9d7e-1f2a3b4c5d06',
} as const;

const ok = (body: Json, status = 200): Answer => ({ status, body });
const fail = (status: number, code: string, message: string): Answer => ({
  status,
  body: { statusCode: status, code, message, correlationId: 'fake-correlation-id' },
});
const notFound = (what: string) => fail(404, 'NOT_FOUND', `${what} not found`);
const invalid = (message: string) => fail(400, 'VALIDATION_FAILED', message);

/** A deterministic 43-character base64url string standing in for a key fingerprint. */
function fakeFingerprint(seed: string): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
  let h = 2166136261;
  let out = '';
  for (let i = 0; i < 43; i++) {
    h = Math.imul(h ^ (seed.charCodeAt(i % seed.length) + i), 16777619) >>> 0;
    out += alphabet[h % 64] ?? 'A';
  }
  return out;
}

export function demoState(now: number): FakeRegistrarState {
  const at = (ms: number) => new Date(ms).toISOString();
  const I = DEMO_IDS;
  const device = (
    id: string,
    name: string,
    tags: string[],
    status: WireDevice['status'],
    seenAgo: number,
    orgId: string = I.acme,
  ): WireDevice => ({
    id,
    orgId,
    name,
    tags,
    publicKey: { kty: 'OKP', crv: 'Ed25519', x: fakeFingerprint(`${id}x`) },
    keyFingerprint: fakeFingerprint(id),
    agentVersion: '0.1.0',
    status,
    lastSeenAt: at(now - seenAgo),
    metrics:
      status === 'online'
        ? {
            ts: now - seenAgo,
            uptimeS: 3 * 86_400 + 7200,
            load1: 0.42,
            memUsedBytes: 412 * 1024 ** 2,
            memTotalBytes: 1024 ** 3,
            diskFreeBytes: 11.5 * 1024 ** 3,
            tempC: 51.5,
            sessions: 1,
          }
        : null,
    revokedAt: null,
    createdAt: at(now - 30 * DAY),
    updatedAt: at(now - DAY),
  });
  const actions = ['auth.login', 'device.rename', 'grant.create', 'claim_code.create'];
  return {
    orgs: [
      { id: I.acme, name: 'Acme Cameras' },
      { id: I.lab, name: 'Home lab' },
    ],
    users: [
      {
        id: I.ada,
        email: 'ada@example.com',
        name: 'Ada Lovelace',
        password: 'correct horse',
        createdAt: at(now - 90 * DAY),
      },
      {
        id: I.bob,
        email: 'bob@example.com',
        name: 'Bob Builder',
        password: 'hunter2hunter2',
        createdAt: at(now - 10 * DAY),
      },
    ],
    memberships: [
      { userId: I.ada, orgId: I.acme, role: 'owner' },
      { userId: I.bob, orgId: I.acme, role: 'member' },
      { userId: I.ada, orgId: I.lab, role: 'admin' },
    ],
    devices: [
      device(I.gate, 'gate-camera', ['site:north', 'camera'], 'online', 4_000),
      device(I.dock, 'loading-dock', ['site:north', 'camera'], 'online', 9_000),
      device(I.kiosk, 'kiosk-lobby', ['site:south', 'kiosk'], 'offline', 3 * 3_600_000),
      device(I.greenhouse, 'greenhouse-sensor', ['site:south', 'sensor'], 'online', 1_000),
      device(I.parking, 'parking-cam-2', ['site:north', 'camera'], 'offline', 2 * DAY),
      device(I.bench, 'pi-workbench', ['bench'], 'online', 2_000, I.lab),
    ],
    claimCodes: [
      {
        id: '7a7a7a7a-0000-4000-8000-000000000001',
        orgId: I.acme,
        code: 'PFC-OLD1-OLD1',
        label: null,
        tags: ['site:north'],
        expiresAt: at(now + 20 * 3_600_000),
        usedAt: null,
        usedByDevice: null,
        revokedAt: null,
        createdAt: at(now - 3_600_000),
      },
    ],
    grants: [
      {
        id: '9e9e9e9e-0000-4000-8000-000000000001',
        orgId: I.acme,
        subjectType: 'user',
        userId: I.bob,
        groupId: null,
        deviceId: null,
        deviceTag: 'site:north',
        role: 'viewer',
        createdBy: I.ada,
        createdAt: at(now - 2 * DAY),
      },
    ],
    groups: [
      {
        id: I.nightShift,
        orgId: I.acme,
        name: 'Night shift',
        createdAt: at(now - 5 * DAY),
        memberIds: [I.bob],
      },
    ],
    invites: [],
    audit: Array.from({ length: 45 }, (_, i) => ({
      id: String(1000 - i),
      orgId: I.acme,
      ts: at(now - i * 600_000),
      actorType: 'user',
      actorId: i % 3 === 2 ? I.bob : I.ada,
      action: actions[i % 4] ?? 'auth.login',
      targetType: i % 4 === 1 ? 'device' : null,
      targetId: i % 4 === 1 ? I.gate : null,
      details: { n: i + 1 },
      sourceIp: '192.0.2.10',
    })),
  };
}

/** The fake registrar: `handle(request)` answers like apps/registrar. */
export class FakeRegistrar {
  /** The session the cookie would carry; null when signed out. */
  session: Session | null = null;
  private seq = 0;

  constructor(
    readonly state: FakeRegistrarState,
    private readonly now: () => number = () => Date.now(),
  ) {}

  static demo(now = Date.now()): FakeRegistrar {
    return new FakeRegistrar(demoState(now), () => now);
  }

  /** Starts a session as if the user had signed in. */
  signIn(userId: string, orgId?: string): void {
    const m = this.state.memberships.find(
      (x) => x.userId === userId && (!orgId || x.orgId === orgId),
    );
    if (!m) throw new Error(`signIn: ${userId} is not a member of ${orgId ?? 'any org'}`);
    this.session = { userId, orgId: m.orgId };
  }

  readonly handle = async (request: Request): Promise<Response> => {
    const url = new URL(request.url);
    let body: Json = undefined;
    const text = request.method === 'GET' ? '' : await request.text();
    if (text) {
      try {
        body = JSON.parse(text) as Json;
      } catch {
        return json(fail(400, 'MALFORMED_BODY', 'body is not valid JSON'));
      }
    }
    for (const [method, pattern, handler, access] of this.routes) {
      if (method !== request.method) continue;
      const match = pattern.exec(url.pathname);
      if (!match) continue;
      const params = match.slice(1).map((p) => decodeURIComponent(p));
      if (access === 'public') {
        return json(
          handler({
            params,
            body,
            url,
            session: this.session ?? { userId: '', orgId: '' },
            role: 'member',
          }),
        );
      }
      const session = this.session;
      const role = session ? this.roleOf(session) : null;
      if (!session || !role) return json(fail(401, 'UNAUTHENTICATED', 'authentication required'));
      if (access === 'admin' && ROLE_RANK[role] < ROLE_RANK.admin) {
        return json(fail(403, 'FORBIDDEN', 'insufficient role for this action'));
      }
      if (
        params.length > 0 &&
        pattern.source.includes('([^/]+)') &&
        /devices|grants|claim-codes|invites|groups/.test(pattern.source) &&
        !params.every((p) => UUID.test(p))
      ) {
        return json(invalid('Validation failed (uuid is expected)'));
      }
      return json(handler({ params, body, url, session, role }));
    }
    return json(fail(404, 'NOT_FOUND', `Cannot ${request.method} ${url.pathname}`));
  };

  private roleOf(s: Session): OrgRole | null {
    return (
      this.state.memberships.find((m) => m.userId === s.userId && m.orgId === s.orgId)?.role ?? null
    );
  }

  private iso(offset = 0): string {
    return new Date(this.now() + offset).toISOString();
  }

  private uuid(): string {
    this.seq += 1;
    return `00000000-0000-4000-8000-${this.seq.toString(16).padStart(12, '0')}`;
  }

  private inviteState(i: WireInvite): 'pending' | 'accepted' | 'expired' | 'revoked' {
    if (i.revokedAt) return 'revoked';
    if (i.acceptedAt) return 'accepted';
    return Date.parse(i.expiresAt) <= this.now() ? 'expired' : 'pending';
  }

  /** The wire view: everything but the token and the org, plus the derived state. */
  private inviteView(i: WireInvite) {
    const { token: _token, orgId: _orgId, ...view } = i;
    return { ...view, state: this.inviteState(i) };
  }

  /** The pending invitation a token names, or the registrar's refusal. */
  private pendingInvite(token: unknown): WireInvite | Answer {
    if (typeof token !== 'string' || !/^[A-Za-z0-9_-]{43}$/.test(token))
      return invalid('token must be the 43-character code from the invitation link');
    const i = this.state.invites.find((x) => x.token === token);
    if (!i || this.inviteState(i) !== 'pending')
      return fail(
        403,
        'INVITE_INVALID',
        'this invitation is not valid: it may have expired, been revoked or already been used',
      );
    return i;
  }

  private me(s: Session) {
    const user = this.state.users.find((u) => u.id === s.userId);
    const role = this.roleOf(s);
    if (!user || !role) return null;
    return {
      user: { id: user.id, email: user.email, name: user.name },
      orgId: s.orgId,
      role,
      memberships: this.state.memberships
        .filter((m) => m.userId === user.id)
        .map((m) => ({
          orgId: m.orgId,
          orgName: this.state.orgs.find((o) => o.id === m.orgId)?.name ?? m.orgId,
          role: m.role,
        })),
    };
  }

  private visibleDevices(ctx: Ctx): WireDevice[] {
    const inOrg = this.state.devices.filter((d) => d.orgId === ctx.session.orgId);
    if (ROLE_RANK[ctx.role] >= ROLE_RANK.admin) return inOrg;
    const groupIds = this.state.groups
      .filter((g) => g.orgId === ctx.session.orgId && g.memberIds.includes(ctx.session.userId))
      .map((g) => g.id);
    const mine = this.state.grants.filter(
      (g) =>
        g.orgId === ctx.session.orgId &&
        (g.userId === ctx.session.userId || (g.groupId !== null && groupIds.includes(g.groupId))),
    );
    return inOrg.filter((d) =>
      mine.some(
        (g) => g.deviceId === d.id || (g.deviceTag !== null && d.tags.includes(g.deviceTag)),
      ),
    );
  }

  private claimView(c: WireClaimCode) {
    const { orgId: _o, code: _c, ...rest } = c;
    const state = c.revokedAt
      ? 'revoked'
      : c.usedAt
        ? 'used'
        : Date.parse(c.expiresAt) <= this.now()
          ? 'expired'
          : 'active';
    return { ...rest, state };
  }

  private groupView({ orgId: _o, ...g }: WireGroup) {
    return { ...g, memberIds: [...g.memberIds], memberCount: g.memberIds.length };
  }

  private groupOf(ctx: Ctx): WireGroup | undefined {
    return this.state.groups.find((g) => g.orgId === ctx.session.orgId && g.id === ctx.params[0]);
  }

  /** The registrar's group name rules (GroupNameDto, then trimmed), or its refusal. */
  private groupName(ctx: Ctx): string | Answer {
    const b = ctx.body;
    if (typeof b !== 'object' || b === null || Array.isArray(b))
      return invalid('name must be a string');
    const extra = Object.keys(b).find((k) => k !== 'name');
    if (extra) return invalid(`property ${extra} should not exist`);
    const name = (b as { name?: unknown }).name;
    if (typeof name !== 'string') return invalid('name must be a string');
    if (name.length < 1 || name.length > 100)
      return invalid('name must be 1 to 100 characters long');
    if (!NAME.test(name)) return invalid('name must not contain control characters');
    const trimmed = name.trim();
    if (!trimmed) return invalid('name must not be blank');
    return trimmed;
  }

  private nameTaken(ctx: Ctx, name: string, except?: string): boolean {
    return this.state.groups.some(
      (g) => g.orgId === ctx.session.orgId && g.name === name && g.id !== except,
    );
  }

  /** PUT/DELETE /api/groups/:id/members/:userId: both must be of the caller's org. */
  private changeMember(ctx: Ctx, op: 'add' | 'remove'): Answer {
    const g = this.groupOf(ctx);
    if (!g) return notFound('group');
    const userId = ctx.params[1] ?? '';
    if (!this.state.memberships.some((m) => m.userId === userId && m.orgId === ctx.session.orgId))
      return notFound('user');
    const has = g.memberIds.includes(userId);
    if (op === 'add' && !has) {
      g.memberIds.push(userId);
      this.record(ctx, 'group.member_add', 'group', g.id);
    }
    if (op === 'remove' && has) {
      g.memberIds = g.memberIds.filter((x) => x !== userId);
      this.record(ctx, 'group.member_remove', 'group', g.id);
    }
    return ok(this.groupView(g));
  }

  private memberOf(ctx: Ctx): FakeMembership | undefined {
    const id = ctx.params[0] ?? '';
    return this.state.memberships.find((m) => m.orgId === ctx.session.orgId && m.userId === id);
  }

  /** The registrar's rules for changing (`role`) or removing (`null`) a member. */
  private refuseMemberChange(ctx: Ctx, m: FakeMembership, role: OrgRole | null): Answer | null {
    if (m.userId === ctx.session.userId) {
      return fail(
        403,
        'FORBIDDEN',
        role
          ? 'you cannot change your own role'
          : 'you cannot remove yourself from the organization',
      );
    }
    if (ROLE_RANK[m.role] > ROLE_RANK[ctx.role])
      return fail(403, 'FORBIDDEN', 'cannot change a member whose role is above your own');
    if (role && ROLE_RANK[role] > ROLE_RANK[ctx.role])
      return fail(403, 'FORBIDDEN', 'cannot grant a role above your own');
    return null;
  }

  private record(ctx: Ctx, action: string, targetType: string | null, targetId: string | null) {
    const next = Math.max(0, ...this.state.audit.map((a) => Number(a.id))) + 1;
    this.state.audit.unshift({
      id: String(next),
      orgId: ctx.session.orgId,
      ts: this.iso(),
      actorType: 'user',
      actorId: ctx.session.userId,
      action,
      targetType,
      targetId,
      details: {},
      sourceIp: '127.0.0.1',
    });
  }

  private readonly routes: Route[] = [
    [
      'POST',
      /^\/api\/auth\/login$/,
      ({ body }) => {
        const { email, password, orgId } = (body ?? {}) as Record<string, unknown>;
        if (typeof email !== 'string' || !email.includes('@'))
          return invalid('email must be an e-mail address');
        const user = this.state.users.find(
          (u) => u.email === email.toLowerCase() && u.password === password,
        );
        const membership = user
          ? this.state.memberships.find(
              (m) => m.userId === user.id && (orgId === undefined || m.orgId === orgId),
            )
          : undefined;
        if (!user || !membership)
          return fail(401, 'INVALID_CREDENTIALS', 'invalid e-mail or password');
        this.session = { userId: user.id, orgId: membership.orgId };
        return ok({
          token: 'fake-token-never-used-by-the-console',
          expiresAt: this.iso(DAY),
          ...this.me(this.session),
        });
      },
      'public',
    ],
    [
      'POST',
      /^\/api\/auth\/logout$/,
      () => {
        if (!this.session) return fail(401, 'UNAUTHENTICATED', 'authentication required');
        this.session = null;
        return { status: 204 };
      },
      'public',
    ],
    [
      'GET',
      /^\/api\/auth\/me$/,
      ({ session }) => {
        const me = this.session ? this.me(session) : null;
        return me ? ok(me) : fail(401, 'UNAUTHENTICATED', 'authentication required');
      },
      'public',
    ],
    [
      'GET',
      /^\/api\/devices$/,
      (ctx) => {
        const q = ctx.url.searchParams;
        const search = q.get('search')?.toLowerCase();
        const rows = this.visibleDevices(ctx)
          .filter((d) => !q.get('tag') || d.tags.includes(q.get('tag') ?? ''))
          .filter((d) => !q.get('status') || d.status === q.get('status'))
          .filter(
            (d) =>
              !search ||
              d.name.toLowerCase().includes(search) ||
              d.keyFingerprint.startsWith(q.get('search') ?? ''),
          )
          .sort((a, b) => a.name.localeCompare(b.name));
        const limit = Number(q.get('limit') ?? 50);
        const offset = Number(q.get('offset') ?? 0);
        if (!Number.isInteger(limit) || limit < 1 || limit > 500)
          return invalid('limit must not be greater than 500');
        return ok({ items: rows.slice(offset, offset + limit), total: rows.length });
      },
      'member',
    ],
    [
      'GET',
      /^\/api\/devices\/([^/]+)$/,
      (ctx) => {
        const d = this.visibleDevices(ctx).find((x) => x.id === ctx.params[0]);
        return d ? ok(d) : notFound('device');
      },
      'member',
    ],
    [
      'PATCH',
      /^\/api\/devices\/([^/]+)$/,
      (ctx) => {
        const d = this.visibleDevices(ctx).find((x) => x.id === ctx.params[0]);
        if (!d) return notFound('device');
        if (ROLE_RANK[ctx.role] < ROLE_RANK.admin)
          return fail(403, 'FORBIDDEN', 'requires admin on this device');
        const { name } = (ctx.body ?? {}) as { name?: unknown };
        if (typeof name !== 'string' || name.length < 1 || name.length > 100) {
          return invalid('name must be longer than or equal to 1 characters');
        }
        d.name = name;
        d.updatedAt = this.iso();
        this.record(ctx, 'device.rename', 'device', d.id);
        return ok(d);
      },
      'member',
    ],
    [
      'PUT',
      /^\/api\/devices\/([^/]+)\/tags$/,
      (ctx) => {
        const d = this.visibleDevices(ctx).find((x) => x.id === ctx.params[0]);
        if (!d) return notFound('device');
        if (ROLE_RANK[ctx.role] < ROLE_RANK.admin)
          return fail(403, 'FORBIDDEN', 'requires admin on this device');
        const { tags } = (ctx.body ?? {}) as { tags?: unknown };
        if (
          !Array.isArray(tags) ||
          tags.length > 32 ||
          !tags.every((t) => typeof t === 'string' && TAG.test(t))
        ) {
          return invalid('tags are 1-63 of a-z 0-9 . _ : - (lower case, starting alphanumeric)');
        }
        d.tags = [...new Set(tags as string[])];
        this.record(ctx, 'device.tag', 'device', d.id);
        return ok(d);
      },
      'member',
    ],
    [
      'POST',
      /^\/api\/devices\/([^/]+)\/revoke$/,
      (ctx) => {
        const d = this.visibleDevices(ctx).find((x) => x.id === ctx.params[0]);
        if (!d) return notFound('device');
        if (ROLE_RANK[ctx.role] < ROLE_RANK.admin)
          return fail(403, 'FORBIDDEN', 'requires admin on this device');
        d.revokedAt = this.iso();
        d.status = 'revoked';
        this.record(ctx, 'device.revoke_key', 'device', d.id);
        return ok(d);
      },
      'member',
    ],
    [
      'DELETE',
      /^\/api\/devices\/([^/]+)$/,
      (ctx) => {
        const d = this.visibleDevices(ctx).find((x) => x.id === ctx.params[0]);
        if (!d) return notFound('device');
        if (ROLE_RANK[ctx.role] < ROLE_RANK.admin)
          return fail(403, 'FORBIDDEN', 'requires admin on this device');
        this.state.devices = this.state.devices.filter((x) => x !== d);
        this.record(ctx, 'device.delete', 'device', d.id);
        return { status: 204 };
      },
      'member',
    ],
    [
      'POST',
      /^\/api\/claim-codes$/,
      (ctx) => {
        const { label, tags = [], ttlHours = 24 } = (ctx.body ?? {}) as Record<string, unknown>;
        if (
          typeof ttlHours !== 'number' ||
          !Number.isInteger(ttlHours) ||
          ttlHours < 1 ||
          ttlHours > 8760
        ) {
          return invalid('ttlHours must not be less than 1');
        }
        if (!Array.isArray(tags) || !tags.every((t) => typeof t === 'string' && TAG.test(t))) {
          return invalid('tags are 1-63 of a-z 0-9 . _ : - (lower case, starting alphanumeric)');
        }
        if (label !== undefined && (typeof label !== 'string' || label.length > 100)) {
          return invalid('label must be shorter than or equal to 100 characters');
        }
        this.seq += 1;
        const code = `PFC-${(this.seq * 7919).toString(36).toUpperCase().padStart(4, 'Q')}-${(this.seq * 104729).toString(36).toUpperCase().padStart(4, 'Z')}`;
        const c: WireClaimCode = {
          id: this.uuid(),
          orgId: ctx.session.orgId,
          code,
          label: label ?? null,
          tags: tags as string[],
          expiresAt: this.iso(ttlHours * 3_600_000),
          usedAt: null,
          usedByDevice: null,
          revokedAt: null,
          createdAt: this.iso(),
        };
        this.state.claimCodes.push(c);
        this.record(ctx, 'claim_code.create', 'claim_code', c.id);
        return ok({ ...this.claimView(c), code }, 201);
      },
      'admin',
    ],
    [
      'GET',
      /^\/api\/claim-codes$/,
      (ctx) =>
        ok(
          this.state.claimCodes
            .filter((c) => c.orgId === ctx.session.orgId)
            .map((c) => this.claimView(c)),
        ),
      'admin',
    ],
    [
      'POST',
      /^\/api\/claim-codes\/([^/]+)\/revoke$/,
      (ctx) => {
        const c = this.state.claimCodes.find(
          (x) => x.orgId === ctx.session.orgId && x.id === ctx.params[0],
        );
        if (!c) return notFound('claim code');
        c.revokedAt = this.iso();
        this.record(ctx, 'claim_code.revoke', 'claim_code', c.id);
        return ok(this.claimView(c));
      },
      'admin',
    ],
    [
      'GET',
      /^\/api\/grants$/,
      (ctx) => {
        const q = ctx.url.searchParams;
        return ok(
          this.state.grants
            .filter((g) => g.orgId === ctx.session.orgId)
            .filter((g) => !q.get('userId') || g.userId === q.get('userId'))
            .filter((g) => !q.get('deviceId') || g.deviceId === q.get('deviceId')),
        );
      },
      'admin',
    ],
    [
      'POST',
      /^\/api\/grants$/,
      (ctx) => {
        const b = (ctx.body ?? {}) as Record<string, unknown>;
        const str = (k: string) => (typeof b[k] === 'string' ? b[k] : null);
        const [userId, groupId, deviceId, deviceTag] = [
          str('userId'),
          str('groupId'),
          str('deviceId'),
          str('deviceTag'),
        ];
        if ((userId === null) === (groupId === null))
          return invalid('exactly one of userId and groupId');
        if ((deviceId === null) === (deviceTag === null))
          return invalid('exactly one of deviceId and deviceTag');
        if (!['viewer', 'operator', 'admin'].includes(b['role'] as string))
          return invalid('role must be one of the following values: viewer, operator, admin');
        if (
          userId !== null &&
          !this.state.memberships.some((m) => m.userId === userId && m.orgId === ctx.session.orgId)
        ) {
          return notFound('user');
        }
        if (
          groupId !== null &&
          !this.state.groups.some((x) => x.id === groupId && x.orgId === ctx.session.orgId)
        ) {
          return notFound('group');
        }
        if (
          deviceId !== null &&
          !this.state.devices.some((d) => d.id === deviceId && d.orgId === ctx.session.orgId)
        ) {
          return notFound('device');
        }
        const g: WireGrant = {
          id: this.uuid(),
          orgId: ctx.session.orgId,
          subjectType: userId !== null ? 'user' : 'group',
          userId,
          groupId,
          deviceId,
          deviceTag,
          role: b['role'] as GrantRole,
          createdBy: ctx.session.userId,
          createdAt: this.iso(),
        };
        this.state.grants.push(g);
        this.record(ctx, 'grant.create', 'grant', g.id);
        return ok(g, 201);
      },
      'admin',
    ],
    [
      'PATCH',
      /^\/api\/grants\/([^/]+)$/,
      (ctx) => {
        const g = this.state.grants.find(
          (x) => x.orgId === ctx.session.orgId && x.id === ctx.params[0],
        );
        if (!g) return notFound('grant');
        const role = (ctx.body as { role?: unknown } | undefined)?.role;
        if (role !== 'viewer' && role !== 'operator' && role !== 'admin')
          return invalid('role must be one of the following values: viewer, operator, admin');
        g.role = role;
        this.record(ctx, 'grant.update', 'grant', g.id);
        return ok(g);
      },
      'admin',
    ],
    [
      'DELETE',
      /^\/api\/grants\/([^/]+)$/,
      (ctx) => {
        const g = this.state.grants.find(
          (x) => x.orgId === ctx.session.orgId && x.id === ctx.params[0],
        );
        if (!g) return notFound('grant');
        this.state.grants = this.state.grants.filter((x) => x !== g);
        this.record(ctx, 'grant.delete', 'grant', g.id);
        return { status: 204 };
      },
      'admin',
    ],
    [
      'GET',
      /^\/api\/groups$/,
      (ctx) => {
        const admin = ROLE_RANK[ctx.role] >= ROLE_RANK.admin;
        const me = ctx.session.userId;
        return ok(
          this.state.groups
            .filter((g) => g.orgId === ctx.session.orgId)
            .filter((g) => admin || g.memberIds.includes(me))
            .sort((a, b) => a.name.localeCompare(b.name))
            .map((g) => this.groupView(g))
            .map((g) => (admin ? g : { ...g, memberIds: [me] })),
        );
      },
      'member',
    ],
    [
      'POST',
      /^\/api\/groups$/,
      (ctx) => {
        const name = this.groupName(ctx);
        if (typeof name !== 'string') return name;
        if (this.nameTaken(ctx, name))
          return fail(409, 'CONFLICT', `a group named "${name}" already exists`);
        const g: WireGroup = {
          id: this.uuid(),
          orgId: ctx.session.orgId,
          name,
          createdAt: this.iso(),
          memberIds: [],
        };
        this.state.groups.push(g);
        this.record(ctx, 'group.create', 'group', g.id);
        return ok(this.groupView(g), 201);
      },
      'admin',
    ],
    [
      'PATCH',
      /^\/api\/groups\/([^/]+)$/,
      (ctx) => {
        const name = this.groupName(ctx);
        if (typeof name !== 'string') return name;
        const g = this.groupOf(ctx);
        if (!g) return notFound('group');
        if (this.nameTaken(ctx, name, g.id))
          return fail(409, 'CONFLICT', `a group named "${name}" already exists`);
        if (g.name !== name) this.record(ctx, 'group.rename', 'group', g.id);
        g.name = name;
        return ok(this.groupView(g));
      },
      'admin',
    ],
    [
      'DELETE',
      /^\/api\/groups\/([^/]+)$/,
      (ctx) => {
        const g = this.groupOf(ctx);
        if (!g) return notFound('group');
        this.state.groups = this.state.groups.filter((x) => x !== g);
        // ON DELETE CASCADE: the group's grants go with it.
        this.state.grants = this.state.grants.filter((x) => x.groupId !== g.id);
        this.record(ctx, 'group.delete', 'group', g.id);
        return { status: 204 };
      },
      'admin',
    ],
    [
      'PUT',
      /^\/api\/groups\/([^/]+)\/members\/([^/]+)$/,
      (ctx) => this.changeMember(ctx, 'add'),
      'admin',
    ],
    [
      'DELETE',
      /^\/api\/groups\/([^/]+)\/members\/([^/]+)$/,
      (ctx) => this.changeMember(ctx, 'remove'),
      'admin',
    ],
    [
      'GET',
      /^\/api\/users$/,
      (ctx) =>
        ok(
          this.state.memberships
            .filter((m) => m.orgId === ctx.session.orgId)
            .flatMap((m) => {
              const u = this.state.users.find((x) => x.id === m.userId);
              return u
                ? [{ id: u.id, email: u.email, name: u.name, role: m.role, createdAt: u.createdAt }]
                : [];
            }),
        ),
      'member',
    ],
    [
      'PATCH',
      /^\/api\/users\/([^/]+)$/,
      (ctx) => {
        const role = ((ctx.body ?? {}) as Record<string, unknown>)['role'];
        if (!['owner', 'admin', 'member'].includes(role as string))
          return invalid('role must be one of the following values: owner, admin, member');
        const m = this.memberOf(ctx);
        if (!m) return notFound('member');
        const refused = this.refuseMemberChange(ctx, m, role as OrgRole);
        if (refused) return refused;
        if (m.role !== role) this.record(ctx, 'user.role_change', 'user', m.userId);
        m.role = role as OrgRole;
        const u = this.state.users.find((x) => x.id === m.userId);
        return ok({ id: m.userId, email: u?.email, name: u?.name, role, createdAt: u?.createdAt });
      },
      'admin',
    ],
    [
      'DELETE',
      /^\/api\/users\/([^/]+)$/,
      (ctx) => {
        const m = this.memberOf(ctx);
        if (!m) return notFound('member');
        const refused = this.refuseMemberChange(ctx, m, null);
        if (refused) return refused;
        // ON DELETE CASCADE: the member's grants and group memberships go with it.
        this.state.memberships = this.state.memberships.filter((x) => x !== m);
        this.state.grants = this.state.grants.filter(
          (g) => !(g.orgId === m.orgId && g.userId === m.userId),
        );
        for (const g of this.state.groups) {
          if (g.orgId === m.orgId) g.memberIds = g.memberIds.filter((id) => id !== m.userId);
        }
        this.record(ctx, 'user.remove', 'user', m.userId);
        return { status: 204 };
      },
      'admin',
    ],
    [
      'POST',
      /^\/api\/users$/,
      (ctx) => {
        const b = (ctx.body ?? {}) as Record<string, unknown>;
        if (typeof b['email'] !== 'string' || !b['email'].includes('@'))
          return invalid('email must be an e-mail address');
        if (typeof b['name'] !== 'string' || b['name'].length < 1)
          return invalid('name must be longer than or equal to 1 characters');
        if (typeof b['password'] !== 'string' || b['password'].length < 12)
          return invalid('password must be longer than or equal to 12 characters');
        if (!['owner', 'admin', 'member'].includes(b['role'] as string))
          return invalid('role must be one of the following values: owner, admin, member');
        if (b['role'] === 'owner' && ctx.role !== 'owner')
          return fail(403, 'FORBIDDEN', 'only an owner can add an owner');
        const email = b['email'].toLowerCase();
        if (this.state.users.some((u) => u.email === email))
          return fail(409, 'CONFLICT', 'a user with this e-mail exists');
        const u: FakeUser = {
          id: this.uuid(),
          email,
          name: b['name'],
          password: b['password'],
          createdAt: this.iso(),
        };
        this.state.users.push(u);
        this.state.memberships.push({
          userId: u.id,
          orgId: ctx.session.orgId,
          role: b['role'] as OrgRole,
        });
        this.record(ctx, 'user.create', 'user', u.id);
        return ok(
          { id: u.id, email: u.email, name: u.name, role: b['role'], createdAt: u.createdAt },
          201,
        );
      },
      'admin',
    ],
    [
      'POST',
      /^\/api\/invites$/,
      (ctx) => {
        const b = (ctx.body ?? {}) as Record<string, unknown>;
        if (typeof b['email'] !== 'string' || !b['email'].includes('@'))
          return invalid('email must be an e-mail address');
        if (!['owner', 'admin', 'member'].includes(b['role'] as string))
          return invalid('role must be one of the following values: owner, admin, member');
        const role = b['role'] as OrgRole;
        if (ROLE_RANK[role] > ROLE_RANK[ctx.role])
          return fail(403, 'FORBIDDEN', 'cannot invite with a role above your own');
        const email = b['email'].trim().toLowerCase();
        const member = this.state.users.find((u) => u.email === email);
        if (
          member &&
          this.state.memberships.some(
            (m) => m.userId === member.id && m.orgId === ctx.session.orgId,
          )
        )
          return fail(409, 'CONFLICT', `${email} is already a member`);
        for (const open of this.state.invites) {
          if (
            open.orgId === ctx.session.orgId &&
            open.email === email &&
            this.inviteState(open) === 'pending'
          )
            open.revokedAt = this.iso();
        }
        const id = this.uuid();
        const token = `fake-invite-${id.replace(/-/g, '')}`.padEnd(43, 'x').slice(0, 43);
        const ttl = typeof b['ttlHours'] === 'number' ? b['ttlHours'] : 72;
        const inv: WireInvite = {
          id,
          orgId: ctx.session.orgId,
          token,
          email,
          role,
          invitedBy: ctx.session.userId,
          expiresAt: this.iso(ttl * 3_600_000),
          acceptedAt: null,
          acceptedBy: null,
          revokedAt: null,
          createdAt: this.iso(),
        };
        this.state.invites.unshift(inv);
        this.record(ctx, 'invite.create', 'invite', id);
        return ok({ ...this.inviteView(inv), token }, 201);
      },
      'admin',
    ],
    [
      'GET',
      /^\/api\/invites$/,
      (ctx) =>
        ok(
          this.state.invites
            .filter((i) => i.orgId === ctx.session.orgId)
            .map((i) => this.inviteView(i)),
        ),
      'admin',
    ],
    [
      'POST',
      /^\/api\/invites\/preview$/,
      ({ body }) => {
        const i = this.pendingInvite((body as Record<string, unknown> | undefined)?.['token']);
        if ('status' in i) return i;
        return ok({
          orgName: this.state.orgs.find((o) => o.id === i.orgId)?.name ?? '',
          email: i.email,
          role: i.role,
          expiresAt: i.expiresAt,
          existingUser: this.state.users.some((u) => u.email === i.email),
        });
      },
      'public',
    ],
    [
      'POST',
      /^\/api\/invites\/accept$/,
      ({ body }) => {
        const b = (body ?? {}) as Record<string, unknown>;
        const i = this.pendingInvite(b['token']);
        if ('status' in i) return i;
        const password = b['password'];
        if (typeof password !== 'string' || password.length < 1)
          return invalid('password must be a string');
        let user = this.state.users.find((u) => u.email === i.email);
        const accountCreated = !user;
        if (user) {
          if (user.password !== password)
            return fail(
              401,
              'INVALID_CREDENTIALS',
              `${i.email} already has an account: enter its password to accept`,
            );
        } else {
          const name = typeof b['name'] === 'string' ? b['name'].trim() : '';
          if (!name) return invalid('name is required for a new account');
          if (password.length < 12) return invalid('password must be at least 12 characters');
          user = { id: this.uuid(), email: i.email, name, password, createdAt: this.iso() };
          this.state.users.push(user);
        }
        this.state.memberships.push({ userId: user.id, orgId: i.orgId, role: i.role });
        i.acceptedAt = this.iso();
        i.acceptedBy = user.id;
        return ok({
          orgId: i.orgId,
          orgName: this.state.orgs.find((o) => o.id === i.orgId)?.name ?? '',
          email: i.email,
          role: i.role,
          accountCreated,
        });
      },
      'public',
    ],
    [
      'POST',
      /^\/api\/invites\/([^/]+)\/revoke$/,
      (ctx) => {
        const i = this.state.invites.find(
          (x) => x.id === ctx.params[0] && x.orgId === ctx.session.orgId,
        );
        if (!i) return notFound('invitation');
        if (this.inviteState(i) === 'pending') i.revokedAt = this.iso();
        this.record(ctx, 'invite.revoke', 'invite', i.id);
        return ok(this.inviteView(i));
      },
      'admin',
    ],
    [
      'GET',
      /^\/api\/audit$/,
      (ctx) => {
        const q = ctx.url.searchParams;
        const action = q.get('action');
        if (action && !/^[a-z_]+\.[a-z_]+$/.test(action))
          return invalid('action must look like "scope.verb"');
        const limit = Number(q.get('limit') ?? 50);
        const before = q.get('cursor');
        const since = q.get('since');
        const until = q.get('until');
        const items = this.state.audit
          .filter((e) => e.orgId === ctx.session.orgId)
          .filter((e) => !action || e.action === action)
          .filter((e) => !q.get('actorId') || e.actorId === q.get('actorId'))
          .filter((e) => !q.get('targetId') || e.targetId === q.get('targetId'))
          .filter((e) => !since || Date.parse(e.ts) >= Date.parse(since))
          .filter((e) => !until || Date.parse(e.ts) <= Date.parse(until))
          .filter((e) => !before || Number(e.id) < Number(before))
          .sort((a, b) => Number(b.id) - Number(a.id))
          .slice(0, limit)
          .map(({ orgId: _o, ...e }) => e);
        const last = items.at(-1);
        return ok({ items, nextCursor: items.length === limit && last ? last.id : null });
      },
      'admin',
    ],
  ];
}

function json({ status, body }: Answer): Response {
  if (body === undefined || status === 204) return new Response(null, { status });
  return new Response(JSON.stringify(body), {
    status,
    headers: { 'content-type': 'application/json' },
  });
}
