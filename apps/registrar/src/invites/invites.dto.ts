import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import {
  IsEmail,
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
import { MEMBER_ROLES, type MemberRole } from '../auth/auth.types.js';
import { NAME_PATTERN } from '../devices/devices.dto.js';

/** Invite tokens are `randomSecret()` output: 43 base64url characters. */
const TOKEN_PATTERN = /^[A-Za-z0-9_-]{43}$/;
const TOKEN_MESSAGE = 'token must be the 43-character code from the invitation link';

export class CreateInviteDto {
  @ApiProperty({ description: 'Only this e-mail can accept the invitation' })
  @IsEmail({}, { message: 'email must be an e-mail address' })
  @MaxLength(254)
  email!: string;

  @ApiProperty({ enum: MEMBER_ROLES })
  @IsIn(MEMBER_ROLES)
  role!: MemberRole;

  @ApiPropertyOptional({ default: 72, minimum: 1, maximum: 720 })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(720)
  ttlHours?: number;
}

export class InviteTokenDto {
  @ApiProperty({ description: 'The token from the invitation link' })
  @IsString()
  @Matches(TOKEN_PATTERN, { message: TOKEN_MESSAGE })
  token!: string;
}

export class AcceptInviteDto extends InviteTokenDto {
  @ApiPropertyOptional({
    maxLength: 100,
    description: 'Your name (new accounts only; ignored for an existing account)',
  })
  @IsOptional()
  @IsString()
  @MinLength(1)
  @MaxLength(100)
  @Matches(NAME_PATTERN, { message: 'name must not contain control characters' })
  name?: string;

  @ApiProperty({
    minLength: 1,
    maxLength: 256,
    description:
      'New account: the password to set (at least 12 characters). Existing account: its password.',
  })
  @IsString()
  @MinLength(1)
  @MaxLength(256)
  password!: string;
}
