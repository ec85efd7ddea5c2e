// An in-memory registrar speaking the console's REST API (see services/api.ts). It backs
// unit tests (through the platform test double) and the screenshot script (through
// Playwright request interception). Not bundled into the app.
import type {
  AuditEvent,
  ClaimCode,
  CreateClaimCodeInput,
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
} from '../services/api-types.js';

interface FakeUser {
  id: string;
  email: string;
  name: string;
  password: string;
}

export interface FakeRegistrarState {
  users: FakeUser[];
  orgs: Org[];
  members: Record<string, Member[]>;
  devices: Device[];
  claimCodes: (ClaimCode & { orgId: string; code: string })[];
  grants: (Grant & { orgId: string })[];
  invites: (Invite & { orgId: string })[];
  audit: (AuditEvent & { orgId: string })[];
}

type Json = unknown;
type Route = (
  params: string[],
  body: Json,
  url: URL,
) => { status: number; body?: Json } | Promise<{ status: number; body?: Json }>;

const DAY = 86_400_000;

const ok = (body: Json, status = 200) => ({ status, body });
const fail = (status: number, code: string, message: string) => ({
  status,
  body: { statusCode: status, code, message },
});

export function demoState(now: number): FakeRegistrarState {
  const orgs: Org[] = [
    { id: 'org-acme', name: 'Acme Cameras' },
    { id: 'org-lab', name: 'Home lab' },
  ];
  const users: FakeUser[] = [
    { id: 'u-ada', email: 'ada@example.com', name: 'Ada Lovelace', password: 'correct horse' },
    { id: 'u-bob', email: 'bob@example.com', name: 'Bob Builder', password: 'hunter22' },
  ];
  const fp = (seed: string) =>
    Array.from(
      { length: 52 },
      (_, i) =>
        'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567'[(seed.charCodeAt(i % seed.length) * (i + 7)) % 32],
    ).join('');
  const device = (
    id: string,
    name: string,
    tags: string[],
    status: Device['status'],
    seenAgo: number,
    orgId = 'org-acme',
  ): Device => ({
    id,
    orgId,
    name,
    tags,
    status,
    lastSeenAt: now - seenAgo,
    agentVersion: '0.1.0',
    fingerprint: fp(id),
    enrolledAt: now - 30 * DAY,
    revokedAt: null,
  });
  return {
    users,
    orgs,
    members: {
      'org-acme': [
        {
          userId: 'u-ada',
          email: 'ada@example.com',
          name: 'Ada Lovelace',
          role: 'owner',
          joinedAt: now - 90 * DAY,
        },
        {
          userId: 'u-bob',
          email: 'bob@example.com',
          name: 'Bob Builder',
          role: 'member',
          joinedAt: now - 10 * DAY,
        },
      ],
      'org-lab': [
        {
          userId: 'u-ada',
          email: 'ada@example.com',
          name: 'Ada Lovelace',
          role: 'admin',
          joinedAt: now - 5 * DAY,
        },
      ],
    },
    devices: [
      device(
        '0b9f3c1e-4b1a-4a53-9d7e-1f2a3b4c5d01',
        'gate-camera',
        ['site:north', 'camera'],
        'online',
        4_000,
      ),
      device(
        '0b9f3c1e-4b1a-4a53-9d7e-1f2a3b4c5d02',
        'loading-dock',
        ['site:north', 'camera'],
        'online',
        9_000,
      ),
      device(
        '0b9f3c1e-4b1a-4a53-9d7e-1f2a3b4c5d03',
        'kiosk-lobby',
        ['site:south', 'kiosk'],
        'offline',
        3 * 3_600_000,
      ),
      device(
        '0b9f3c1e-4b1a-4a53-9d7e-1f2a3b4c5d04',
        'greenhouse-sensor',
        ['site:south', 'sensor'],
        'online',
        1_000,
      ),
      device(
        '0b9f3c1e-4b1a-4a53-9d7e-1f2a3b4c5d05',
        'parking-cam-2',
        ['site:north', 'camera'],
        'offline',
        2 * DAY,
      ),
      device(
        '0b9f3c1e-4b1a-4a53-9d7e-1f2a3b4c5d06',
        'pi-workbench',
        ['bench'],
        'online',
        2_000,
        'org-lab',
      ),
    ],
    claimCodes: [
      {
        id: 'cc-1',
        orgId: 'org-acme',
        code: 'PFC-OLD1-OLD1',
        name: null,
        tags: ['site:north'],
        createdAt: now - 3_600_000,
        expiresAt: now + 20 * 3_600_000,
        usedAt: null,
        revokedAt: null,
      },
    ],
    grants: [
      {
        id: 'g-1',
        orgId: 'org-acme',
        userId: 'u-bob',
        target: { kind: 'tag', tag: 'site:north' },
        role: 'viewer',
        createdAt: now - 2 * DAY,
        expiresAt: null,
      },
    ],
    invites: [],
    audit: Array.from({ length: 45 }, (_, i) => ({
      id: `a-${i + 1}`,
      orgId: 'org-acme',
      ts: now - i * 600_000,
      action:
        ['auth.login', 'device.rename', 'session.request', 'claim-code.create'][i % 4] ??
        'auth.login',
      actor:
        i % 3 === 2
          ? {
              kind: 'device' as const,
              id: '0b9f3c1e-4b1a-4a53-9d7e-1f2a3b4c5d01',
              label: 'gate-camera',
            }
          : { kind: 'user' as const, id: 'u-ada', label: 'ada@example.com' },
      deviceId: i % 2 === 0 ? '0b9f3c1e-4b1a-4a53-9d7e-1f2a3b4c5d01' : null,
      detail: { n: i + 1 },
    })),
  };
}

/**
 * The fake registrar. `handle(request)` answers like the real one (JSON bodies, error
 * bodies `{ statusCode, code, message }`, cookie session modelled as one signed-in user).
 */
export class FakeRegistrar {
  signedInUserId: string | null = null;
  private seq = 0;

  constructor(
    readonly state: FakeRegistrarState,
    private readonly now: () => number = () => Date.now(),
  ) {}

  static demo(now = Date.now()): FakeRegistrar {
    return new FakeRegistrar(demoState(now), () => now);
  }

  readonly handle = async (request: Request): Promise<Response> => {
    const url = new URL(request.url);
    let body: Json = undefined;
    const text = request.method === 'GET' ? '' : await request.text();
    if (text) {
      try {
        body = JSON.parse(text) as Json;
      } catch {
        return json(fail(400, 'BAD_JSON', 'Body is not JSON'));
      }
    }
    for (const [method, pattern, route, anonymous] of this.routes) {
      if (method !== request.method) continue;
      const match = pattern.exec(url.pathname);
      if (!match) continue;
      if (!anonymous && !this.signedInUserId) {
        return json(fail(401, 'UNAUTHENTICATED', 'Sign in first'));
      }
      const params = match.slice(1).map((p) => decodeURIComponent(p));
      const orgId = params[0];
      if (!anonymous && pattern.source.startsWith('^\\/api\\/orgs\\/') && orgId !== undefined) {
        if (!this.memberOf(orgId)) return json(fail(403, 'FORBIDDEN', 'Not a member of this org'));
      }
      return json(await route(params, body, url));
    }
    return json(fail(404, 'NOT_FOUND', `No route ${request.method} ${url.pathname}`));
  };

  private memberOf(orgId: string): boolean {
    return (this.state.members[orgId] ?? []).some((m) => m.userId === this.signedInUserId);
  }

  private id(prefix: string): string {
    this.seq += 1;
    return `${prefix}-${this.seq}-${Math.random().toString(36).slice(2, 8)}`;
  }

  private me(): Me | null {
    const user = this.state.users.find((u) => u.id === this.signedInUserId);
    if (!user) return null;
    return {
      user: { id: user.id, email: user.email, name: user.name },
      memberships: this.state.orgs.flatMap((org) => {
        const m = (this.state.members[org.id] ?? []).find((x) => x.userId === user.id);
        return m ? [{ orgId: org.id, orgName: org.name, role: m.role }] : [];
      }),
    };
  }

  private device(orgId: string, id: string): Device | undefined {
    return this.state.devices.find((d) => d.orgId === orgId && d.id === id);
  }

  private readonly routes: [string, RegExp, Route, boolean?][] = [
    [
      'POST',
      /^\/api\/auth\/login$/,
      (_p, body) => {
        const { email, password } = (body ?? {}) as { email?: unknown; password?: unknown };
        const user = this.state.users.find((u) => u.email === email && u.password === password);
        if (!user) return fail(401, 'INVALID_CREDENTIALS', 'Email or password is wrong');
        this.signedInUserId = user.id;
        return ok(this.me());
      },
      true,
    ],
    [
      'POST',
      /^\/api\/auth\/logout$/,
      () => {
        this.signedInUserId = null;
        return { status: 204 };
      },
      true,
    ],
    [
      'GET',
      /^\/api\/auth\/me$/,
      () => {
        const me = this.me();
        return me ? ok(me) : fail(401, 'UNAUTHENTICATED', 'No session');
      },
      true,
    ],
    ['GET', /^\/api\/orgs$/, () => ok(this.state.orgs.filter((o) => this.memberOf(o.id)))],
    [
      'GET',
      /^\/api\/orgs\/([^/]+)\/devices$/,
      ([orgId]) => ok(this.state.devices.filter((d) => d.orgId === orgId)),
    ],
    [
      'GET',
      /^\/api\/orgs\/([^/]+)\/devices\/([^/]+)$/,
      ([orgId = '', id = '']) => {
        const d = this.device(orgId, id);
        return d ? ok(d) : fail(404, 'DEVICE_NOT_FOUND', 'No such device');
      },
    ],
    [
      'PATCH',
      /^\/api\/orgs\/([^/]+)\/devices\/([^/]+)$/,
      ([orgId = '', id = ''], body) => {
        const d = this.device(orgId, id);
        if (!d) return fail(404, 'DEVICE_NOT_FOUND', 'No such device');
        const patch = (body ?? {}) as DevicePatch;
        if (patch.name !== undefined) {
          if (typeof patch.name !== 'string' || !/^[\w.-]{1,64}$/.test(patch.name)) {
            return fail(400, 'VALIDATION', 'name must be 1–64 letters, digits, ".", "-" or "_"');
          }
          d.name = patch.name;
        }
        if (patch.tags !== undefined) d.tags = [...new Set(patch.tags)].sort();
        return ok(d);
      },
    ],
    [
      'DELETE',
      /^\/api\/orgs\/([^/]+)\/devices\/([^/]+)$/,
      ([orgId = '', id = '']) => {
        const before = this.state.devices.length;
        this.state.devices = this.state.devices.filter((d) => !(d.orgId === orgId && d.id === id));
        return before === this.state.devices.length
          ? fail(404, 'DEVICE_NOT_FOUND', 'No such device')
          : { status: 204 };
      },
    ],
    [
      'POST',
      /^\/api\/orgs\/([^/]+)\/devices\/([^/]+)\/revoke$/,
      ([orgId = '', id = '']) => {
        const d = this.device(orgId, id);
        if (!d) return fail(404, 'DEVICE_NOT_FOUND', 'No such device');
        d.revokedAt = this.now();
        d.status = 'offline';
        return ok(d);
      },
    ],
    [
      'POST',
      /^\/api\/orgs\/([^/]+)\/claim-codes$/,
      ([orgId = ''], body) => {
        const input = (body ?? {}) as CreateClaimCodeInput;
        if (
          typeof input.expiresInSeconds !== 'number' ||
          input.expiresInSeconds < 60 ||
          input.expiresInSeconds > 7 * 86_400
        ) {
          return fail(400, 'VALIDATION', 'expiresInSeconds must be between 60 and 604800');
        }
        const code = `PFC-${this.id('x').slice(-6).toUpperCase()}-${Math.random().toString(36).slice(2, 8).toUpperCase()}`;
        const created = {
          id: this.id('cc'),
          orgId,
          code,
          name: input.name ?? null,
          tags: input.tags ?? [],
          createdAt: this.now(),
          expiresAt: this.now() + input.expiresInSeconds * 1000,
          usedAt: null,
          revokedAt: null,
        };
        this.state.claimCodes.push(created);
        const { orgId: _o, ...out } = created;
        return ok(out, 201);
      },
    ],
    [
      'GET',
      /^\/api\/orgs\/([^/]+)\/claim-codes$/,
      ([orgId]) =>
        ok(
          this.state.claimCodes
            .filter((c) => c.orgId === orgId)
            .map(({ orgId: _o, code: _c, ...rest }) => rest),
        ),
    ],
    [
      'DELETE',
      /^\/api\/orgs\/([^/]+)\/claim-codes\/([^/]+)$/,
      ([orgId, id]) => {
        const c = this.state.claimCodes.find((x) => x.orgId === orgId && x.id === id);
        if (!c) return fail(404, 'CLAIM_CODE_NOT_FOUND', 'No such claim code');
        c.revokedAt = this.now();
        return { status: 204 };
      },
    ],
    [
      'GET',
      /^\/api\/orgs\/([^/]+)\/grants$/,
      ([orgId], _b, url) => {
        const deviceId = url.searchParams.get('deviceId');
        const tag = url.searchParams.get('tag');
        return ok(
          this.state.grants
            .filter((g) => g.orgId === orgId)
            .filter(
              (g) => !deviceId || (g.target.kind === 'device' && g.target.deviceId === deviceId),
            )
            .filter((g) => !tag || (g.target.kind === 'tag' && g.target.tag === tag))
            .map(({ orgId: _o, ...g }) => g),
        );
      },
    ],
    [
      'POST',
      /^\/api\/orgs\/([^/]+)\/grants$/,
      ([orgId = ''], body) => {
        const input = body as CreateGrantInput;
        if (!(this.state.members[orgId] ?? []).some((m) => m.userId === input.userId)) {
          return fail(400, 'VALIDATION', 'userId is not a member of this org');
        }
        const grant = { ...input, id: this.id('g'), orgId, createdAt: this.now() };
        this.state.grants.push(grant);
        const { orgId: _o, ...out } = grant;
        return ok(out, 201);
      },
    ],
    [
      'PATCH',
      /^\/api\/orgs\/([^/]+)\/grants\/([^/]+)$/,
      ([orgId, id], body) => {
        const g = this.state.grants.find((x) => x.orgId === orgId && x.id === id);
        if (!g) return fail(404, 'GRANT_NOT_FOUND', 'No such grant');
        Object.assign(g, body as GrantPatch);
        const { orgId: _o, ...out } = g;
        return ok(out);
      },
    ],
    [
      'DELETE',
      /^\/api\/orgs\/([^/]+)\/grants\/([^/]+)$/,
      ([orgId, id]) => {
        const before = this.state.grants.length;
        this.state.grants = this.state.grants.filter((g) => !(g.orgId === orgId && g.id === id));
        return before === this.state.grants.length
          ? fail(404, 'GRANT_NOT_FOUND', 'No such grant')
          : { status: 204 };
      },
    ],
    [
      'GET',
      /^\/api\/orgs\/([^/]+)\/members$/,
      ([orgId = '']) => ok(this.state.members[orgId] ?? []),
    ],
    [
      'GET',
      /^\/api\/orgs\/([^/]+)\/invites$/,
      ([orgId]) =>
        ok(this.state.invites.filter((i) => i.orgId === orgId).map(({ orgId: _o, ...i }) => i)),
    ],
    [
      'POST',
      /^\/api\/orgs\/([^/]+)\/invites$/,
      ([orgId = ''], body) => {
        const input = body as CreateInviteInput;
        if (typeof input.email !== 'string' || !input.email.includes('@')) {
          return fail(400, 'VALIDATION', 'email must be an email address');
        }
        const invite = {
          ...input,
          id: this.id('inv'),
          orgId,
          createdAt: this.now(),
          expiresAt: this.now() + 7 * DAY,
        };
        this.state.invites.push(invite);
        const { orgId: _o, ...out } = invite;
        return ok(out, 201);
      },
    ],
    [
      'DELETE',
      /^\/api\/orgs\/([^/]+)\/invites\/([^/]+)$/,
      ([orgId, id]) => {
        const before = this.state.invites.length;
        this.state.invites = this.state.invites.filter((i) => !(i.orgId === orgId && i.id === id));
        return before === this.state.invites.length
          ? fail(404, 'INVITE_NOT_FOUND', 'No such invite')
          : { status: 204 };
      },
    ],
    [
      'GET',
      /^\/api\/orgs\/([^/]+)\/audit$/,
      ([orgId], _b, url) => {
        const q = url.searchParams;
        const limit = Math.min(Number(q.get('limit') ?? 20) || 20, 100);
        const offset = Number(q.get('cursor') ?? 0) || 0;
        const rows = this.state.audit
          .filter((e) => e.orgId === orgId)
          .filter((e) => !q.get('action') || e.action.startsWith(q.get('action') ?? ''))
          .filter((e) => !q.get('actorId') || e.actor.id === q.get('actorId'))
          .filter((e) => !q.get('deviceId') || e.deviceId === q.get('deviceId'))
          .filter((e) => !q.get('from') || e.ts >= Number(q.get('from')))
          .filter((e) => !q.get('to') || e.ts <= Number(q.get('to')))
          .sort((a, b) => b.ts - a.ts);
        const items = rows.slice(offset, offset + limit).map(({ orgId: _o, ...e }) => e);
        return ok({
          items,
          nextCursor: offset + limit < rows.length ? String(offset + limit) : null,
        });
      },
    ],
  ];
}

function json({ status, body }: { status: number; body?: Json }): Response {
  if (body === undefined || status === 204) return new Response(null, { status });
  return new Response(JSON.stringify(body), {
    status,
    headers: { 'content-type': 'application/json' },
  });
}
