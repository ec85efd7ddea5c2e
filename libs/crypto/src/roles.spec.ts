import { describe, expect, it } from 'vitest';
import { authorize, canPerform, isRouteAllowed } from './roles.js';

describe('roles', () => {
  it('viewer may only read; operator and admin may do everything', () => {
    expect(canPerform('viewer', 'GET')).toBe(true);
    expect(canPerform('viewer', 'head')).toBe(true);
    for (const m of ['POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']) {
      expect(canPerform('viewer', m)).toBe(false);
      expect(canPerform('operator', m)).toBe(true);
      expect(canPerform('admin', m)).toBe(true);
    }
    expect(canPerform('operator', 'G E T')).toBe(false);
  });

  it('routes are prefixes on segment boundaries', () => {
    expect(isRouteAllowed(['/clips'], '/clips')).toBe(true);
    expect(isRouteAllowed(['/clips'], '/clips/a.mp4')).toBe(true);
    expect(isRouteAllowed(['/clips/'], '/clips/a.mp4')).toBe(true);
    expect(isRouteAllowed(['/clips'], '/clipsx')).toBe(false);
    expect(isRouteAllowed(['/clips'], '/api/x')).toBe(false);
    expect(isRouteAllowed(['/'], '/anything/at/all')).toBe(true);
    expect(isRouteAllowed([], '/')).toBe(false);
  });

  it.each([
    '/clips/../admin',
    '/clips/./x',
    '/clips/%2e%2e/admin',
    '/clips/%2F..',
    '/clips\\..\\admin',
    'clips/a',
    '/clips/a?x=1',
    '/clips/%00',
  ])('refuses an escaping or odd path: %s', (path) => {
    expect(isRouteAllowed(['/clips'], path)).toBe(false);
  });

  it('authorize combines role and routes; admin is not limited by routes', () => {
    expect(authorize({ role: 'viewer', routes: ['/clips'] }, 'GET', '/clips/1')).toBe(true);
    expect(authorize({ role: 'viewer', routes: ['/clips'] }, 'DELETE', '/clips/1')).toBe(false);
    expect(authorize({ role: 'viewer', routes: ['/clips'] }, 'GET', '/api/config')).toBe(false);
    expect(authorize({ role: 'operator', routes: ['/api'] }, 'POST', '/api/reboot')).toBe(true);
    expect(authorize({ role: 'operator', routes: ['/api'] }, 'POST', '/clips/1')).toBe(false);
    expect(authorize({ role: 'admin', routes: [] }, 'POST', '/anything')).toBe(true);
    expect(authorize({ role: 'admin', routes: [] }, 'GET', '/x/../y')).toBe(false);
  });
});
