import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  Equals,
  IsObject,
  IsOptional,
  IsString,
  Matches,
  MaxLength,
  MinLength,
  ValidateNested,
} from 'class-validator';
import { NAME_PATTERN } from '../devices/devices.dto.js';

const B64URL = /^[A-Za-z0-9_-]+$/;

/** `x` of an Ed25519 public JWK: base64url (no padding) of the 32-byte key. */
export const ED25519_X_PATTERN = /^[A-Za-z0-9_-]{43}$/;
export const ED25519_X_MESSAGE = 'x must be base64url of 32 bytes';

export class PublicJwkDto {
  @ApiProperty({ example: 'OKP' })
  @Equals('OKP')
  kty!: string;

  @ApiProperty({ example: 'Ed25519' })
  @Equals('Ed25519')
  crv!: string;

  @ApiProperty({ description: 'base64url of the 32-byte public key' })
  @IsString()
  @Matches(ED25519_X_PATTERN, { message: ED25519_X_MESSAGE })
  x!: string;
}

export class EnrollDto {
  @ApiProperty({ description: 'Claim code (dashes and case are ignored)' })
  @IsString()
  @MinLength(1)
  @MaxLength(64)
  code!: string;

  @ApiProperty({ description: 'Nonce from POST /api/enroll/challenge' })
  @IsString()
  @MaxLength(64)
  @Matches(B64URL, { message: 'nonce must be base64url' })
  nonce!: string;

  @ApiProperty({ type: PublicJwkDto })
  @IsObject()
  @ValidateNested()
  @Type(() => PublicJwkDto)
  publicKey!: PublicJwkDto;

  @ApiProperty({ description: 'base64url Ed25519 signature (libs/crypto enrollment proof)' })
  @IsString()
  @MaxLength(128)
  @Matches(B64URL, { message: 'proof must be base64url' })
  proof!: string;

  @ApiProperty({ example: '0.1.0' })
  @IsString()
  @MinLength(1)
  @MaxLength(64)
  @Matches(/^[A-Za-z0-9.+_-]+$/, { message: 'agentVersion must be a version string' })
  agentVersion!: string;

  @ApiPropertyOptional({ maxLength: 100 })
  @IsOptional()
  @IsString()
  @MinLength(1)
  @MaxLength(100)
  @Matches(NAME_PATTERN, { message: 'name must not contain control characters' })
  name?: string;
}
