import {
  type ArgumentsHost,
  Catch,
  type ExceptionFilter,
  HttpException,
  Logger,
} from '@nestjs/common';
import { ThrottlerException } from '@nestjs/throttler';
import type { Request, Response } from 'express';
import { DomainError, type ErrorBody, ErrorCode, errorStatus } from './errors.js';
import { correlationIdOf } from './request-context.js';

/** Maps framework HTTP statuses to our codes when an HttpException did not come from us. */
function codeForStatus(status: number): ErrorCode {
  switch (status) {
    case 400:
      return ErrorCode.VALIDATION_FAILED;
    case 401:
      return ErrorCode.UNAUTHENTICATED;
    case 403:
      return ErrorCode.FORBIDDEN;
    case 404:
      return ErrorCode.NOT_FOUND;
    case 409:
      return ErrorCode.CONFLICT;
    case 413:
      return ErrorCode.PAYLOAD_TOO_LARGE;
    case 415:
      return ErrorCode.UNSUPPORTED_MEDIA_TYPE;
    case 429:
      return ErrorCode.RATE_LIMITED;
    default:
      return status >= 500 ? ErrorCode.INTERNAL : ErrorCode.VALIDATION_FAILED;
  }
}

/** Turns an exception into our error body. Unknown errors become an opaque 500. */
export function toErrorBody(exception: unknown, correlationId: string): ErrorBody {
  if (exception instanceof DomainError) {
    return {
      statusCode: errorStatus[exception.code],
      code: exception.code,
      message: exception.message,
      ...(exception.details === undefined ? {} : { details: exception.details }),
      correlationId,
    };
  }
  if (exception instanceof ThrottlerException) {
    return {
      statusCode: 429,
      code: ErrorCode.RATE_LIMITED,
      message: 'too many requests, try again later',
      correlationId,
    };
  }
  if (exception instanceof HttpException) {
    const statusCode = exception.getStatus();
    const response = exception.getResponse();
    let message = exception.message;
    let details: unknown;
    if (typeof response === 'object' && response !== null && 'message' in response) {
      const m: unknown = response.message;
      if (Array.isArray(m)) {
        details = m.filter((x): x is string => typeof x === 'string');
        message = 'request validation failed';
      } else if (typeof m === 'string') {
        message = m;
      }
    }
    const code = codeForStatus(statusCode);
    if (statusCode >= 500) {
      return { statusCode, code, message: 'internal error', correlationId };
    }
    return { statusCode, code, message, ...(details ? { details } : {}), correlationId };
  }
  return { statusCode: 500, code: ErrorCode.INTERNAL, message: 'internal error', correlationId };
}

@Catch()
export class AllExceptionsFilter implements ExceptionFilter {
  private readonly logger = new Logger('Errors');

  catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const req = http.getRequest<Request>();
    const res = http.getResponse<Response>();
    const body = toErrorBody(exception, correlationIdOf(req));
    if (body.statusCode >= 500) {
      this.logger.error(
        { err: exception, correlationId: body.correlationId },
        'unhandled error while serving a request',
      );
    }
    if (res.headersSent) {
      res.end();
      return;
    }
    res.status(body.statusCode).json(body);
  }
}
