import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayMinSize,
  IsArray,
  IsOptional,
  IsString,
  Matches,
  MaxLength,
  ValidateNested,
} from 'class-validator';

const ICE_URL = /^(stun|stuns|turn|turns):[^\s]{1,250}$/;

export class IceServerDto {
  @ApiProperty({ type: [String], example: ['stun:stun.example.com:3478'] })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(8)
  @Matches(ICE_URL, { each: true, message: 'urls must be stun:, stuns:, turn: or turns: URLs' })
  urls!: string[];

  @ApiPropertyOptional()
  @IsOptional()
  @IsString()
  @MaxLength(256)
  username?: string;

  @ApiPropertyOptional()
  @IsOptional()
  @IsString()
  @MaxLength(256)
  credential?: string;
}

export class OrgSettingsDto {
  @ApiProperty({ type: [IceServerDto] })
  @IsArray()
  @ArrayMaxSize(8)
  @ValidateNested({ each: true })
  @Type(() => IceServerDto)
  iceServers!: IceServerDto[];
}
