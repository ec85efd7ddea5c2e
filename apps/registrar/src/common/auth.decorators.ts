import { createParamDecorator, type ExecutionContext, SetMetadata } from '@nestjs/common';
import type { MemberRole, Principal } from '../auth/auth.types.js';

export const IS_PUBLIC = 'peerfetch:public';
export const MIN_ROLE = 'peerfetch:min-role';

/** Opts a route out of the global auth guard. Every use must be deliberate. */
export const Public = (): MethodDecorator & ClassDecorator => SetMetadata(IS_PUBLIC, true);

/** Requires at least this org role (owner > admin > member). */
export const MinRole = (role: MemberRole): MethodDecorator & ClassDecorator =>
  SetMetadata(MIN_ROLE, role);

export const CurrentPrincipal = createParamDecorator(
  (_: unknown, ctx: ExecutionContext): Principal => {
    const req = ctx.switchToHttp().getRequest<{ principal?: Principal }>();
    if (!req.principal) throw new Error('CurrentPrincipal used on a public route');
    return req.principal;
  },
);
