import { ApiProperty } from '@nestjs/swagger';
import { IsString, Matches, MaxLength, MinLength } from 'class-validator';
import { NAME_PATTERN } from '../devices/devices.dto.js';

export class GroupNameDto {
  @ApiProperty({ minLength: 1, maxLength: 100, description: 'Unique in the organization' })
  @IsString()
  @MinLength(1)
  @MaxLength(100)
  @Matches(NAME_PATTERN, { message: 'name must not contain control characters' })
  name!: string;
}
