import {
  Body,
  Controller,
  Get,
  HttpCode,
  Param,
  ParseUUIDPipe,
  Post,
  Req,
  UseGuards,
} from '@nestjs/common';
import { ApiBearerAuth, ApiCookieAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { SkipThrottle, ThrottlerGuard } from '@nestjs/throttler';
import type { Request } from 'express';
import type { Principal } from '../auth/auth.types.js';
import { CurrentPrincipal, MinRole, Public } from '../common/auth.decorators.js';
import { sourceIpOf } from '../common/request-context.js';
import { AcceptInviteDto, CreateInviteDto, InviteTokenDto } from './invites.dto.js';
import { InvitesService } from './invites.service.js';

@ApiTags('invites')
@Controller('invites')
export class InvitesController {
  constructor(private readonly invites: InvitesService) {}

  @Post()
  @MinRole('admin')
  @ApiBearerAuth()
  @ApiCookieAuth()
  @ApiOperation({ summary: 'Invite an e-mail with a role: `token` is in this response only' })
  create(@CurrentPrincipal() p: Principal, @Body() body: CreateInviteDto, @Req() req: Request) {
    return this.invites.create(p, body, sourceIpOf(req));
  }

  @Get()
  @MinRole('admin')
  @ApiBearerAuth()
  @ApiCookieAuth()
  @ApiOperation({ summary: 'Invitations of the org (never the tokens)' })
  list(@CurrentPrincipal() p: Principal) {
    return this.invites.list(p);
  }

  @Post(':id/revoke')
  @HttpCode(200)
  @MinRole('admin')
  @ApiBearerAuth()
  @ApiCookieAuth()
  @ApiOperation({ summary: 'Revoke a pending invitation' })
  revoke(
    @CurrentPrincipal() p: Principal,
    @Param('id', ParseUUIDPipe) id: string,
    @Req() req: Request,
  ) {
    return this.invites.revoke(p, id, sourceIpOf(req));
  }

  // The token travels in the body, never in a URL the server or a proxy would log.
  @Public()
  @Post('preview')
  @HttpCode(200)
  @UseGuards(ThrottlerGuard)
  @SkipThrottle({ enroll: true })
  @ApiOperation({ summary: 'What an invitation token is for (organization, e-mail, role)' })
  preview(@Body() body: InviteTokenDto, @Req() req: Request) {
    return this.invites.preview(body.token, sourceIpOf(req));
  }

  @Public()
  @Post('accept')
  @HttpCode(200)
  @UseGuards(ThrottlerGuard)
  @SkipThrottle({ enroll: true })
  @ApiOperation({
    summary: 'Accept an invitation: new account (name + password) or existing account password',
  })
  accept(@Body() body: AcceptInviteDto, @Req() req: Request) {
    return this.invites.accept(body, sourceIpOf(req));
  }
}
