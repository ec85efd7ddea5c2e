import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayMinSize,
  IsArray,
  IsEmpty,
  IsString,
  Matches,
  ValidateNested,
} from 'class-validator';
import { TURN_FROM_REGISTRAR } from './orgs.types.js';

const STUN_URL = /^stuns?:[^\s]{1,250}$/;

/** A STUN server. TURN is the registrar's (per-session credentials), never an org setting. */
export class IceServerDto {
  @ApiProperty({ type: [String], example: ['stun:stun.example.com:3478'] })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(8)
  @IsString({ each: true })
  @Matches(STUN_URL, {
    each: true,
    message: `urls must be stun: or stuns: URLs (${TURN_FROM_REGISTRAR})`,
  })
  urls!: string[];

  @ApiPropertyOptional({ type: String, description: 'Refused: no static TURN credentials' })
  @IsEmpty({ message: `username: ${TURN_FROM_REGISTRAR}` })
  username?: string;

  @ApiPropertyOptional({ type: String, description: 'Refused: no static TURN credentials' })
  @IsEmpty({ message: `credential: ${TURN_FROM_REGISTRAR}` })
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
