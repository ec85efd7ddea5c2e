import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional, IsUUID, Matches } from 'class-validator';
import { GRANT_ROLES, type GrantRole } from './grants.types.js';

export const TAG_PATTERN = /^[a-z0-9][a-z0-9._:-]{0,62}$/;
export const TAG_MESSAGE = 'tags are 1-63 of a-z 0-9 . _ : - (lower case, starting alphanumeric)';

export class CreateGrantDto {
  @ApiPropertyOptional({ description: 'Exactly one of userId, groupId' })
  @IsOptional()
  @IsUUID()
  userId?: string;

  @ApiPropertyOptional()
  @IsOptional()
  @IsUUID()
  groupId?: string;

  @ApiPropertyOptional({ description: 'Exactly one of deviceId, deviceTag' })
  @IsOptional()
  @IsUUID()
  deviceId?: string;

  @ApiPropertyOptional({ description: 'Every device carrying this tag' })
  @IsOptional()
  @Matches(TAG_PATTERN, { message: TAG_MESSAGE })
  deviceTag?: string;

  @ApiProperty({ enum: GRANT_ROLES })
  @IsIn(GRANT_ROLES)
  role!: GrantRole;
}

export class UpdateGrantDto {
  @ApiProperty({ enum: GRANT_ROLES })
  @IsIn(GRANT_ROLES)
  role!: GrantRole;
}

export class ListGrantsQueryDto {
  @ApiPropertyOptional()
  @IsOptional()
  @IsUUID()
  userId?: string;

  @ApiPropertyOptional()
  @IsOptional()
  @IsUUID()
  deviceId?: string;
}
