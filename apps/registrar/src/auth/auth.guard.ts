import { type CanActivate, type ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Request } from 'express';
import { IS_PUBLIC, MIN_ROLE } from '../common/auth.decorators.js';
import { DomainError, ErrorCode, forbidden } from '../common/errors.js';
import { AuthService } from './auth.service.js';
import { type MemberRole, type Principal, roleAtLeast } from './auth.types.js';

export const SESSION_COOKIE = 'pf_session';

/** Session token from `Authorization: Bearer …` or the httpOnly session cookie. */
export function tokenFrom(req: Request): string | null {
  const header = req.headers.authorization;
  if (typeof header === 'string') {
    const m = /^Bearer ([A-Za-z0-9_-]{16,128})$/.exec(header);
    return m?.[1] ?? null;
  }
  const cookies = (req as { cookies?: Record<string, unknown> }).cookies;
  const cookie = cookies?.[SESSION_COOKIE];
  return typeof cookie === 'string' ? cookie : null;
}

/** Global guard: every route needs a valid session unless marked @Public(). */
@Injectable()
export class AuthGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly auth: AuthService,
  ) {}

  async canActivate(ctx: ExecutionContext): Promise<boolean> {
    const targets = [ctx.getHandler(), ctx.getClass()];
    if (this.reflector.getAllAndOverride<boolean>(IS_PUBLIC, targets)) return true;
    const req = ctx.switchToHttp().getRequest<Request & { principal?: Principal }>();
    const token = tokenFrom(req);
    const principal = token ? await this.auth.authenticate(token) : null;
    if (!principal) throw new DomainError(ErrorCode.UNAUTHENTICATED, 'sign in first');
    req.principal = principal;
    const min = this.reflector.getAllAndOverride<MemberRole | undefined>(MIN_ROLE, targets);
    if (min && !roleAtLeast(principal.role, min)) throw forbidden(`requires the ${min} role`);
    return true;
  }
}
