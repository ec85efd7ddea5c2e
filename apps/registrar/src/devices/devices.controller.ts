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
  Query,
  Req,
} from '@nestjs/common';
import { ApiBearerAuth, ApiCookieAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Request } from 'express';
import type { Principal } from '../auth/auth.types.js';
import { CurrentPrincipal } from '../common/auth.decorators.js';
import { sourceIpOf } from '../common/request-context.js';
import { ListDevicesQueryDto, RenameDeviceDto, RevokeKeyDto, TagDeviceDto } from './devices.dto.js';
import { DevicesService } from './devices.service.js';

@ApiTags('devices')
@ApiBearerAuth()
@ApiCookieAuth()
@Controller('devices')
export class DevicesController {
  constructor(private readonly devices: DevicesService) {}

  @Get()
  @ApiOperation({ summary: 'Devices visible to the caller (admins: all of the org)' })
  list(@CurrentPrincipal() p: Principal, @Query() q: ListDevicesQueryDto) {
    return this.devices.list(p, q);
  }

  @Get(':id')
  get(@CurrentPrincipal() p: Principal, @Param('id', ParseUUIDPipe) id: string) {
    return this.devices.get(p, id);
  }

  @Patch(':id')
  @ApiOperation({ summary: 'Rename a device' })
  rename(
    @CurrentPrincipal() p: Principal,
    @Param('id', ParseUUIDPipe) id: string,
    @Body() body: RenameDeviceDto,
    @Req() req: Request,
  ) {
    return this.devices.rename(p, id, body.name, sourceIpOf(req));
  }

  @Put(':id/tags')
  @ApiOperation({ summary: "Replace a device's tags" })
  tag(
    @CurrentPrincipal() p: Principal,
    @Param('id', ParseUUIDPipe) id: string,
    @Body() body: TagDeviceDto,
    @Req() req: Request,
  ) {
    return this.devices.setTags(p, id, body.tags, sourceIpOf(req));
  }

  @Post(':id/revoke')
  @HttpCode(200)
  @ApiOperation({ summary: "Revoke the device's key (it can never enroll or connect again)" })
  revoke(
    @CurrentPrincipal() p: Principal,
    @Param('id', ParseUUIDPipe) id: string,
    @Body() body: RevokeKeyDto,
    @Req() req: Request,
  ) {
    return this.devices.revokeKey(p, id, body.reason ?? null, sourceIpOf(req));
  }

  @Delete(':id')
  @HttpCode(204)
  async delete(
    @CurrentPrincipal() p: Principal,
    @Param('id', ParseUUIDPipe) id: string,
    @Req() req: Request,
  ): Promise<void> {
    await this.devices.delete(p, id, sourceIpOf(req));
  }
}
