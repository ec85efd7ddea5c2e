import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  IsArray,
  IsIn,
  IsInt,
  IsOptional,
  IsString,
  Matches,
  Max,
  MaxLength,
  Min,
  MinLength,
} from 'class-validator';
import { TAG_MESSAGE, TAG_PATTERN } from '../grants/grants.dto.js';

const STATUSES = ['online', 'offline', 'revoked'] as const;
/** Printable, no control characters. */
export const NAME_PATTERN = /^[^\p{Cc}\p{Cf}]+$/u;

export class ListDevicesQueryDto {
  @ApiPropertyOptional()
  @IsOptional()
  @Matches(TAG_PATTERN, { message: TAG_MESSAGE })
  tag?: string;

  @ApiPropertyOptional({ enum: STATUSES })
  @IsOptional()
  @IsIn(STATUSES)
  status?: (typeof STATUSES)[number];

  @ApiPropertyOptional({ description: 'Substring of the name, or fingerprint prefix' })
  @IsOptional()
  @IsString()
  @MinLength(1)
  @MaxLength(100)
  search?: string;

  @ApiPropertyOptional({ default: 50, minimum: 1, maximum: 500 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(500)
  limit?: number;

  @ApiPropertyOptional({ default: 0, minimum: 0 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(0)
  @Max(1_000_000)
  offset?: number;
}

export class RenameDeviceDto {
  @ApiProperty({ minLength: 1, maxLength: 100 })
  @IsString()
  @MinLength(1)
  @MaxLength(100)
  @Matches(NAME_PATTERN, { message: 'name must not contain control characters' })
  name!: string;
}

export class TagDeviceDto {
  @ApiProperty({ type: [String], maxItems: 32 })
  @IsArray()
  @ArrayMaxSize(32)
  @Matches(TAG_PATTERN, { each: true, message: TAG_MESSAGE })
  tags!: string[];
}

export class RevokeKeyDto {
  @ApiPropertyOptional({ maxLength: 200 })
  @IsOptional()
  @IsString()
  @MaxLength(200)
  reason?: string;
}
