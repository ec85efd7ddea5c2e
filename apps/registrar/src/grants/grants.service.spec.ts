import { describe, expect, it } from 'vitest';
import type { AuditService } from '../audit/audit.service.js';
import type { Principal } from '../auth/auth.types.js';
import type { GrantsRepository } from './grants.repository.js';
import { GrantsService } from './grants.service.js';
import { type GrantView, grantRoleAtLeast, maxGrantRole } from './grants.types.js';

const principal = (role: Principal['role']): Principal => ({
  userId: 'u1',
  email: 'u@example.com',
  name: 'U',
  orgId: 'o1',
  role,
  sessionHash: 'h',
});

function grant(g: Partial<GrantView>): GrantView {
  return {
    id: 'g',
    orgId: 'o1',
    subjectType: 'user',
    userId: 'u1',
    groupId: null,
    deviceId: null,
    deviceTag: null,
    role: 'viewer',
    createdBy: null,
    createdAt: '',
    ...g,
  };
}

function service(grants: GrantView[]): GrantsService {
  const repo = { grantsOfUser: () => Promise.resolve(grants) } as unknown as GrantsRepository;
  return new GrantsService(repo, {} as AuditService);
}

describe('grant roles', () => {
  it('orders viewer < operator < admin', () => {
    expect(grantRoleAtLeast('operator', 'viewer')).toBe(true);
    expect(grantRoleAtLeast('viewer', 'operator')).toBe(false);
    expect(maxGrantRole(['viewer', 'admin', 'operator'])).toBe('admin');
    expect(maxGrantRole([])).toBeNull();
  });
});

describe('GrantsService.effectiveRole', () => {
  const device = { id: 'd1', tags: ['lab', 'cam'] };

  it('org owners and admins administer every device', async () => {
    expect(await service([]).effectiveRole(principal('owner'), device)).toBe('admin');
    expect(await service([]).effectiveRole(principal('admin'), device)).toBe('admin');
  });

  it('members get the highest matching grant by device or tag, and nothing otherwise', async () => {
    const s = service([
      grant({ deviceId: 'd1', role: 'viewer' }),
      grant({ deviceTag: 'cam', role: 'operator' }),
      grant({ deviceTag: 'other', role: 'admin' }),
      grant({ deviceId: 'd2', role: 'admin' }),
    ]);
    expect(await s.effectiveRole(principal('member'), device)).toBe('operator');
    expect(await s.effectiveRole(principal('member'), { id: 'd3', tags: [] })).toBeNull();
    expect(await service([]).effectiveRole(principal('member'), device)).toBeNull();
  });

  it('visibility lists granted ids and tags for members, everything for admins', async () => {
    const s = service([grant({ deviceId: 'd1' }), grant({ deviceTag: 'lab' })]);
    expect(await s.visibility(principal('member'))).toEqual({ deviceIds: ['d1'], tags: ['lab'] });
    expect(await s.visibility(principal('admin'))).toBeUndefined();
  });
});
