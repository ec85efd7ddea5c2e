import { Body, Controller, Get, Put, Req } from '@nestjs/common';
import { ApiBearerAuth, ApiCookieAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Request } from 'express';
import type { Principal } from '../auth/auth.types.js';
import { CurrentPrincipal, MinRole } from '../common/auth.decorators.js';
import { sourceIpOf } from '../common/request-context.js';
import { OrgSettingsDto } from './orgs.dto.js';
import { OrgsService } from './orgs.service.js';

@ApiTags('org')
@ApiBearerAuth()
@ApiCookieAuth()
@Controller('org/settings')
export class OrgsController {
  constructor(private readonly orgs: OrgsService) {}

  @Get()
  @MinRole('admin')
  @ApiOperation({ summary: 'Organization settings (STUN/TURN servers)' })
  get(@CurrentPrincipal() p: Principal) {
    return this.orgs.settings(p.orgId);
  }

  @Put()
  @MinRole('admin')
  @ApiOperation({ summary: 'Replace the organization settings' })
  put(@CurrentPrincipal() p: Principal, @Body() body: OrgSettingsDto, @Req() req: Request) {
    return this.orgs.update(
      p,
      {
        iceServers: body.iceServers.map((s) => ({ urls: s.urls })),
      },
      sourceIpOf(req),
    );
  }
}
