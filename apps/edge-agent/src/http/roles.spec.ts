import { describe, expect, it } from 'vitest';
import { authorize, canPerform, isRole, isRouteAllowed } from './roles.js';

describe('roles', () => {
  it('viewer reads only; operator/admin do anything', () => {
    expect(canPerform('viewer', 'GET')).toBe(true);
    expect(canPerform('viewer', 'head')).toBe(true);
    for (const m of ['POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'CONNECT']) {
      expect(canPerform('viewer', m)).toBe(false);
      expect(canPerform('operator', m)).toBe(true);
      expect(canPerform('admin', m)).toBe(true);
    }
    expect(isRole('owner')).toBe(false);
    expect(isRole('viewer')).toBe(true);
  });

  it('route prefixes match on segment boundaries and refuse tricks', () => {
    expect(isRouteAllowed(['/clips'], '/clips/a.mp4')).toBe(true);
    expect(isRouteAllowed(['/clips/'], '/clips')).toBe(true);
    expect(isRouteAllowed(['/clips'], '/clipsx')).toBe(false);
    expect(isRouteAllowed(['/clips'], '/clips/../secret')).toBe(false);
    expect(isRouteAllowed(['/clips'], '/clips/%2e%2e/secret')).toBe(false);
    expect(isRouteAllowed(['/clips'], '/clips/a%2fb')).toBe(false);
    expect(isRouteAllowed(['/'], '/anything')).toBe(true);
    expect(authorize({ role: 'operator', routes: ['/api'] }, 'POST', '/api/x')).toBe(true);
    expect(authorize({ role: 'operator', routes: ['/api'] }, 'POST', '/other')).toBe(false);
    expect(authorize({ role: 'viewer', routes: ['/api'] }, 'POST', '/api/x')).toBe(false);
    expect(authorize({ role: 'admin', routes: [] }, 'DELETE', '/x')).toBe(true);
    expect(authorize({ role: 'viewer' }, 'GET', '/x')).toBe(true);
  });
});
