import { Body, Controller, Get, HttpCode, Inject, Post, Req, Res, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiCookieAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { SkipThrottle, ThrottlerGuard } from '@nestjs/throttler';
import type { Request, Response } from 'express';
import { CurrentPrincipal, Public } from '../common/auth.decorators.js';
import { sourceIpOf } from '../common/request-context.js';
import { CONFIG, type RegistrarConfig } from '../config/config.js';
import { ChangePasswordDto, LoginDto } from './auth.dto.js';
import { SESSION_COOKIE } from './auth.guard.js';
import { AuthService } from './auth.service.js';
import type { Principal } from './auth.types.js';

@ApiTags('auth')
@Controller('auth')
export class AuthController {
  constructor(
    private readonly auth: AuthService,
    @Inject(CONFIG) private readonly config: RegistrarConfig,
  ) {}

  @Public()
  @Post('login')
  @HttpCode(200)
  @UseGuards(ThrottlerGuard)
  @SkipThrottle({ enroll: true })
  @ApiOperation({
    summary: 'Sign in: sets the httpOnly session cookie and returns the same token for Bearer use',
  })
  async login(
    @Body() body: LoginDto,
    @Req() req: Request,
    @Res({ passthrough: true }) res: Response,
  ) {
    const r = await this.auth.login({
      email: body.email,
      password: body.password,
      orgId: body.orgId,
      sourceIp: sourceIpOf(req),
      userAgent: req.headers['user-agent'] ?? null,
    });
    res.cookie(SESSION_COOKIE, r.token, {
      httpOnly: true,
      sameSite: 'strict',
      secure: this.config.cookieSecure,
      path: '/',
      expires: r.expiresAt,
    });
    return {
      token: r.token,
      expiresAt: r.expiresAt.toISOString(),
      user: { id: r.principal.userId, email: r.principal.email, name: r.principal.name },
      orgId: r.principal.orgId,
      role: r.principal.role,
      memberships: r.memberships,
    };
  }

  @Post('logout')
  @HttpCode(204)
  @ApiBearerAuth()
  @ApiCookieAuth()
  @ApiOperation({ summary: 'End the current session' })
  async logout(
    @CurrentPrincipal() p: Principal,
    @Req() req: Request,
    @Res({ passthrough: true }) res: Response,
  ): Promise<void> {
    await this.auth.logout(p, sourceIpOf(req));
    res.clearCookie(SESSION_COOKIE, { path: '/' });
  }

  @Post('password')
  @HttpCode(204)
  @UseGuards(ThrottlerGuard)
  @SkipThrottle({ enroll: true })
  @ApiBearerAuth()
  @ApiCookieAuth()
  @ApiOperation({ summary: 'Change your password (ends your other sessions)' })
  async changePassword(
    @CurrentPrincipal() p: Principal,
    @Body() body: ChangePasswordDto,
    @Req() req: Request,
  ): Promise<void> {
    await this.auth.changePassword(p, body.currentPassword, body.newPassword, sourceIpOf(req));
  }

  @Get('me')
  @ApiBearerAuth()
  @ApiCookieAuth()
  @ApiOperation({ summary: 'The current user, organization and role' })
  async me(@CurrentPrincipal() p: Principal) {
    return {
      user: { id: p.userId, email: p.email, name: p.name },
      orgId: p.orgId,
      role: p.role,
      memberships: await this.auth.memberships(p.userId),
    };
  }
}
