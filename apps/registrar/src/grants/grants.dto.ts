import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional, IsUUID, Matches } from 'class-validator';

export const TAG_PATTERN = /^[a-z0-9][a-z0-9._:-]{0,62}$/;
export const TAG_MESSAGE = 'tags are 1-63 of a-z 0-9 . _ : - (lower case, starting alphanumeric)';
const ROLES = ['viewer', 'operator', 'admin'] as const;

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

  @ApiProperty({ enum: ROLES })
  @IsIn(ROLES)
  role!: (typeof ROLES)[number];
}

export class UpdateGrantDto {
  @ApiProperty({ enum: ROLES })
  @IsIn(ROLES)
  role!: (typeof ROLES)[number];
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
