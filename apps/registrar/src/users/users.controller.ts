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
  Req,
} from '@nestjs/common';
import { ApiBearerAuth, ApiCookieAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Request } from 'express';
import type { Principal } from '../auth/auth.types.js';
import { CurrentPrincipal, MinRole } from '../common/auth.decorators.js';
import { sourceIpOf } from '../common/request-context.js';
import { ChangeRoleDto, CreateUserDto } from './users.dto.js';
import { UsersService } from './users.service.js';

@ApiTags('users')
@ApiBearerAuth()
@ApiCookieAuth()
@Controller('users')
export class UsersController {
  constructor(private readonly users: UsersService) {}

  @Get()
  @ApiOperation({ summary: 'Members of the current organization' })
  list(@CurrentPrincipal() p: Principal) {
    return this.users.list(p);
  }

  @Post()
  @MinRole('admin')
  @ApiOperation({ summary: 'Add a user (new or existing e-mail) to the organization' })
  create(@CurrentPrincipal() p: Principal, @Body() body: CreateUserDto, @Req() req: Request) {
    return this.users.create(p, body, sourceIpOf(req));
  }

  @Patch(':id')
  @MinRole('admin')
  @ApiOperation({
    summary: "Change a member's role (not your own, not above your own)",
  })
  changeRole(
    @CurrentPrincipal() p: Principal,
    @Param('id', ParseUUIDPipe) id: string,
    @Body() body: ChangeRoleDto,
    @Req() req: Request,
  ) {
    return this.users.changeRole(p, id, body.role, sourceIpOf(req));
  }

  @Delete(':id')
  @HttpCode(204)
  @MinRole('admin')
  @ApiOperation({
    summary:
      'Remove a member: their grants and group memberships go, their login sessions end (not yourself, not above your own role)',
  })
  async remove(
    @CurrentPrincipal() p: Principal,
    @Param('id', ParseUUIDPipe) id: string,
    @Req() req: Request,
  ): Promise<void> {
    await this.users.remove(p, id, sourceIpOf(req));
  }
}
