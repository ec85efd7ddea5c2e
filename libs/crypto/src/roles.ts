// Roles and route permissions: one definition shared by the agent (enforces) and the
// console (hides what the user cannot do). Default deny.

export const ROLES = ['viewer', 'operator', 'admin'] as const;
export type Role = (typeof ROLES)[number];

export function isRole(value: unknown): value is Role {
  return typeof value === 'string' && (ROLES as readonly string[]).includes(value);
}

const READ_METHODS = new Set(['GET', 'HEAD']);

/**
 * Whether `role` may use HTTP `method` at all:
 * - viewer: GET and HEAD (read routes and clips);
 * - operator: every method;
 * - admin: every method.
 */
export function canPerform(role: Role, method: string): boolean {
  const m = method.toUpperCase();
  switch (role) {
    case 'viewer':
      return READ_METHODS.has(m);
    case 'operator':
    case 'admin':
      return /^[A-Z]+$/.test(m);
  }
}

/**
 * Whether `path` (the request path, without query) is inside one of `routes`. A route is a
 * path prefix matched on segment boundaries: `/clips` allows `/clips` and `/clips/a.mp4`,
 * not `/clipsx`; `/` allows everything. Paths with dot segments, backslashes, encoded
 * slashes/dots/backslashes or NUL are refused outright (they could escape a prefix after
 * decoding).
 */
export function isRouteAllowed(routes: readonly string[], path: string): boolean {
  if (!path.startsWith('/') || /[\\\0?#]/.test(path) || /%(2e|2f|5c|00)/i.test(path)) return false;
  const segments = path.split('/');
  if (segments.some((s) => s === '.' || s === '..')) return false;
  return routes.some((route) => {
    if (route === '/') return true;
    const prefix = route.endsWith('/') ? route.slice(0, -1) : route;
    return path === prefix || path.startsWith(`${prefix}/`);
  });
}

/**
 * The full check for one request under a grant: admin may do anything anywhere; operator
 * any method on the grant's routes; viewer GET/HEAD on the grant's routes.
 */
export function authorize(
  grant: { role: Role; routes: readonly string[] },
  method: string,
  path: string,
): boolean {
  if (!canPerform(grant.role, method)) return false;
  if (grant.role === 'admin') return isRouteAllowed(['/'], path);
  return isRouteAllowed(grant.routes, path);
}
