import { BadRequestException, HttpException, NotFoundException } from '@nestjs/common';
import { ThrottlerException } from '@nestjs/throttler';
import { describe, expect, it } from 'vitest';
import { DomainError, ErrorCode } from './errors.js';
import { toErrorBody } from './exception.filter.js';

describe('toErrorBody', () => {
  it('maps domain errors by code', () => {
    const body = toErrorBody(new DomainError(ErrorCode.CLAIM_CODE_INVALID, 'nope'), 'c1');
    expect(body).toEqual({
      statusCode: 403,
      code: 'CLAIM_CODE_INVALID',
      message: 'nope',
      correlationId: 'c1',
    });
  });

  it('keeps validation messages as details', () => {
    const body = toErrorBody(new BadRequestException(['name must be a string']), 'c2');
    expect(body.statusCode).toBe(400);
    expect(body.code).toBe('VALIDATION_FAILED');
    expect(body.details).toEqual(['name must be a string']);
  });

  it('maps framework statuses', () => {
    expect(toErrorBody(new NotFoundException(), 'c').code).toBe('NOT_FOUND');
    expect(toErrorBody(new ThrottlerException(), 'c').statusCode).toBe(429);
  });

  it('never leaks an unknown error or a framework 5xx', () => {
    const secret = new Error('password=hunter2 at /srv/app.js:1');
    const body = toErrorBody(secret, 'c3');
    expect(body).toEqual({
      statusCode: 500,
      code: 'INTERNAL',
      message: 'internal error',
      correlationId: 'c3',
    });
    expect(
      JSON.stringify(toErrorBody(new HttpException('db down: secret', 502), 'c')),
    ).not.toContain('secret');
  });
});
