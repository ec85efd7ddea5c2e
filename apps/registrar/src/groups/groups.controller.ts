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
  Put,
  Req,
} from '@nestjs/common';
import { ApiBearerAuth, ApiCookieAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Request } from 'express';
import type { Principal } from '../auth/auth.types.js';
import { CurrentPrincipal, MinRole } from '../common/auth.decorators.js';
import { sourceIpOf } from '../common/request-context.js';
import { GroupNameDto } from './groups.dto.js';
import { GroupsService } from './groups.service.js';

@ApiTags('groups')
@ApiBearerAuth()
@ApiCookieAuth()
@Controller('groups')
export class GroupsController {
  constructor(private readonly groups: GroupsService) {}

  @Get()
  @ApiOperation({
    summary: 'Groups with their member ids (a non-admin: only the groups they are in, only self)',
  })
  list(@CurrentPrincipal() p: Principal) {
    return this.groups.list(p);
  }

  @Post()
  @MinRole('admin')
  @ApiOperation({ summary: 'Create a group (409 when the name is taken)' })
  create(@CurrentPrincipal() p: Principal, @Body() body: GroupNameDto, @Req() req: Request) {
    return this.groups.create(p, body, sourceIpOf(req));
  }

  @Patch(':id')
  @MinRole('admin')
  @ApiOperation({ summary: 'Rename a group' })
  rename(
    @CurrentPrincipal() p: Principal,
    @Param('id', ParseUUIDPipe) id: string,
    @Body() body: GroupNameDto,
    @Req() req: Request,
  ) {
    return this.groups.rename(p, id, body, sourceIpOf(req));
  }

  @Delete(':id')
  @HttpCode(204)
  @MinRole('admin')
  @ApiOperation({ summary: 'Delete a group, its memberships and its grants' })
  async delete(
    @CurrentPrincipal() p: Principal,
    @Param('id', ParseUUIDPipe) id: string,
    @Req() req: Request,
  ): Promise<void> {
    await this.groups.delete(p, id, sourceIpOf(req));
  }

  @Put(':id/members/:userId')
  @MinRole('admin')
  @ApiOperation({ summary: 'Add a member of the organization to the group (idempotent)' })
  addMember(
    @CurrentPrincipal() p: Principal,
    @Param('id', ParseUUIDPipe) id: string,
    @Param('userId', ParseUUIDPipe) userId: string,
    @Req() req: Request,
  ) {
    return this.groups.addMember(p, id, userId, sourceIpOf(req));
  }

  @Delete(':id/members/:userId')
  @MinRole('admin')
  @ApiOperation({ summary: 'Remove a person from the group (idempotent)' })
  removeMember(
    @CurrentPrincipal() p: Principal,
    @Param('id', ParseUUIDPipe) id: string,
    @Param('userId', ParseUUIDPipe) userId: string,
    @Req() req: Request,
  ) {
    return this.groups.removeMember(p, id, userId, sourceIpOf(req));
  }
}
