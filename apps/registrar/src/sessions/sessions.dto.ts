import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsIn, IsObject, IsOptional, IsUUID, ValidateNested } from 'class-validator';
import { PublicJwkDto } from '../enrollment/enrollment.dto.js';
import { GRANT_ROLES, type GrantRole } from '../grants/grants.types.js';

export class CreateSessionDto {
  @ApiProperty()
  @IsUUID()
  deviceId!: string;

  @ApiProperty({ type: PublicJwkDto, description: "The console's ephemeral session public key" })
  @IsObject()
  @ValidateNested()
  @Type(() => PublicJwkDto)
  sessionKey!: PublicJwkDto;

  @ApiPropertyOptional({
    enum: GRANT_ROLES,
    description: 'Default: the role you hold',
  })
  @IsOptional()
  @IsIn(GRANT_ROLES)
  role?: GrantRole;
}
