import { Body, Controller, Post, Req } from '@nestjs/common';
import { ApiBearerAuth, ApiCookieAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Request } from 'express';
import type { Principal } from '../auth/auth.types.js';
import { CurrentPrincipal } from '../common/auth.decorators.js';
import { sourceIpOf } from '../common/request-context.js';
import { CreateSessionDto } from './sessions.dto.js';
import { SessionsService } from './sessions.service.js';

@ApiTags('sessions')
@ApiBearerAuth()
@ApiCookieAuth()
@Controller('sessions')
export class SessionsController {
  constructor(private readonly sessions: SessionsService) {}

  @Post()
  @ApiOperation({
    summary:
      'Request a session to a device: a signed grant bound to your session key + ICE servers',
  })
  create(@CurrentPrincipal() p: Principal, @Body() body: CreateSessionDto, @Req() req: Request) {
    return this.sessions.request(
      p,
      {
        deviceId: body.deviceId,
        sessionKey: { kty: 'OKP', crv: 'Ed25519', x: body.sessionKey.x },
        role: body.role,
      },
      sourceIpOf(req),
    );
  }
}
