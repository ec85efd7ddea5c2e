import { ApiPropertyOptional } from '@nestjs/swagger';
import {
  ArrayMaxSize,
  IsArray,
  IsInt,
  IsOptional,
  IsString,
  Matches,
  Max,
  MaxLength,
  Min,
} from 'class-validator';
import { NAME_PATTERN } from '../devices/devices.dto.js';
import { TAG_MESSAGE, TAG_PATTERN } from '../grants/grants.dto.js';

export class CreateClaimCodeDto {
  @ApiPropertyOptional({ maxLength: 100, description: 'Becomes the device name by default' })
  @IsOptional()
  @IsString()
  @MaxLength(100)
  @Matches(NAME_PATTERN, { message: 'label must not contain control characters' })
  label?: string;

  @ApiPropertyOptional({ type: [String], description: 'Tags applied to the enrolled device' })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(32)
  @Matches(TAG_PATTERN, { each: true, message: TAG_MESSAGE })
  tags?: string[];

  @ApiPropertyOptional({ default: 24, minimum: 1 })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(24 * 365)
  ttlHours?: number;
}
