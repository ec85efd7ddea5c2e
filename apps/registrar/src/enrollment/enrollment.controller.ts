import { Body, Controller, HttpCode, Post, Req, UseGuards } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { SkipThrottle, ThrottlerGuard } from '@nestjs/throttler';
import type { Request } from 'express';
import { Public } from '../common/auth.decorators.js';
import { sourceIpOf } from '../common/request-context.js';
import { EnrollDto } from './enrollment.dto.js';
import { EnrollmentService } from './enrollment.service.js';

/** Device enrollment: public (the claim code and the key proof are the credentials). */
@ApiTags('enrollment')
@Controller('enroll')
@Public()
@UseGuards(ThrottlerGuard)
@SkipThrottle({ login: true })
export class EnrollmentController {
  constructor(private readonly enrollment: EnrollmentService) {}

  @Post('challenge')
  @HttpCode(200)
  @ApiOperation({ summary: 'A single-use, short-lived nonce for the enrollment proof' })
  challenge() {
    return this.enrollment.challenge();
  }

  @Post()
  @HttpCode(201)
  @ApiOperation({
    summary: 'Redeem a claim code with a proof of key possession: device id and MQTT credentials',
  })
  enroll(@Body() body: EnrollDto, @Req() req: Request) {
    return this.enrollment.enroll(
      {
        code: body.code,
        nonce: body.nonce,
        publicKey: { kty: body.publicKey.kty, crv: body.publicKey.crv, x: body.publicKey.x },
        proof: body.proof,
        agentVersion: body.agentVersion,
        name: body.name,
      },
      sourceIpOf(req),
    );
  }
}
