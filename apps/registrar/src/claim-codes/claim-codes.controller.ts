import { Body, Controller, Get, HttpCode, Param, ParseUUIDPipe, Post, Req } from '@nestjs/common';
import { ApiBearerAuth, ApiCookieAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Request } from 'express';
import type { Principal } from '../auth/auth.types.js';
import { CurrentPrincipal, MinRole } from '../common/auth.decorators.js';
import { sourceIpOf } from '../common/request-context.js';
import { CreateClaimCodeDto } from './claim-codes.dto.js';
import { ClaimCodesService } from './claim-codes.service.js';

@ApiTags('claim-codes')
@ApiBearerAuth()
@ApiCookieAuth()
@Controller('claim-codes')
@MinRole('admin')
export class ClaimCodesController {
  constructor(private readonly codes: ClaimCodesService) {}

  @Post()
  @ApiOperation({ summary: 'Create a claim code: `code` is shown in this response only' })
  create(@CurrentPrincipal() p: Principal, @Body() body: CreateClaimCodeDto, @Req() req: Request) {
    return this.codes.create(p, body, sourceIpOf(req));
  }

  @Get()
  @ApiOperation({ summary: 'Claim codes of the org (never the codes themselves)' })
  list(@CurrentPrincipal() p: Principal) {
    return this.codes.list(p);
  }

  @Post(':id/revoke')
  @HttpCode(200)
  revoke(
    @CurrentPrincipal() p: Principal,
    @Param('id', ParseUUIDPipe) id: string,
    @Req() req: Request,
  ) {
    return this.codes.revoke(p, id, sourceIpOf(req));
  }
}
