// Role rule for one request: viewer GET/HEAD only; operator and admin every method.
// Same semantics as `canPerform` in @peerfetch/crypto (libs/crypto/src/roles.ts), kept
// local until that library is committed and builds under Node types; to be replaced by an
// import (`canPerform`, and `authorize` for grant route prefixes).

export const ROLES = ['viewer', 'operator', 'admin'] as const;
export type Role = (typeof ROLES)[number];

const READ_METHODS = new Set(['GET', 'HEAD']);

export function isRole(value: unknown): value is Role {
  return typeof value === 'string' && (ROLES as readonly string[]).includes(value);
}

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
 * Whether `path` is inside one of the grant's route prefixes (segment boundaries: `/clips`
 * allows `/clips/a.mp4`, not `/clipsx`; `/` allows all). Dot segments, backslashes, encoded
 * slashes/dots/backslashes and NUL are refused outright.
 */
export function isRouteAllowed(routes: readonly string[], path: string): boolean {
  if (!path.startsWith('/') || /[\\\0]/.test(path) || /%(2e|2f|5c|00)/i.test(path)) return false;
  if (path.split('/').some((s) => s === '.' || s === '..')) return false;
  return routes.some((route) => {
    if (route === '/') return true;
    const prefix = route.endsWith('/') ? route.slice(0, -1) : route;
    return path === prefix || path.startsWith(`${prefix}/`);
  });
}

export function authorize(
  grant: { role: Role; routes?: readonly string[] | undefined },
  method: string,
  path: string,
): boolean {
  if (!canPerform(grant.role, method)) return false;
  if (grant.routes === undefined || grant.role === 'admin') return true;
  return isRouteAllowed(grant.routes, path);
}
