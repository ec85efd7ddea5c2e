import {
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  Param,
  ParseUUIDPipe,
  Patch,
  Post,
  Query,
  Req,
} from '@nestjs/common';
import { ApiBearerAuth, ApiCookieAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Request } from 'express';
import type { Principal } from '../auth/auth.types.js';
import { CurrentPrincipal, MinRole } from '../common/auth.decorators.js';
import { sourceIpOf } from '../common/request-context.js';
import { CreateGrantDto, ListGrantsQueryDto, UpdateGrantDto } from './grants.dto.js';
import { GrantsService } from './grants.service.js';

@ApiTags('grants')
@ApiBearerAuth()
@ApiCookieAuth()
@Controller('grants')
@MinRole('admin')
export class GrantsController {
  constructor(private readonly grants: GrantsService) {}

  @Get()
  @ApiOperation({ summary: 'List grants (filter by user or device)' })
  list(@CurrentPrincipal() p: Principal, @Query() q: ListGrantsQueryDto) {
    return this.grants.list(p, q);
  }

  @Post()
  @ApiOperation({ summary: 'Grant a user or group a role on a device or a tag' })
  create(@CurrentPrincipal() p: Principal, @Body() body: CreateGrantDto, @Req() req: Request) {
    return this.grants.create(p, body, sourceIpOf(req));
  }

  @Get(':id')
  get(@CurrentPrincipal() p: Principal, @Param('id', ParseUUIDPipe) id: string) {
    return this.grants.get(p, id);
  }

  @Patch(':id')
  @ApiOperation({ summary: "Change a grant's role" })
  update(
    @CurrentPrincipal() p: Principal,
    @Param('id', ParseUUIDPipe) id: string,
    @Body() body: UpdateGrantDto,
    @Req() req: Request,
  ) {
    return this.grants.updateRole(p, id, body.role, sourceIpOf(req));
  }

  @Delete(':id')
  @HttpCode(204)
  async delete(
    @CurrentPrincipal() p: Principal,
    @Param('id', ParseUUIDPipe) id: string,
    @Req() req: Request,
  ): Promise<void> {
    await this.grants.delete(p, id, sourceIpOf(req));
  }
}
