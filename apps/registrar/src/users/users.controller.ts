import { Body, Controller, Get, Post, Req } from '@nestjs/common';
import { ApiBearerAuth, ApiCookieAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Request } from 'express';
import type { Principal } from '../auth/auth.types.js';
import { CurrentPrincipal, MinRole } from '../common/auth.decorators.js';
import { sourceIpOf } from '../common/request-context.js';
import { CreateUserDto } from './users.dto.js';
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
}
