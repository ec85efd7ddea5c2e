import { Inject, Injectable, type NestMiddleware } from '@nestjs/common';
import express, { type NextFunction, type Request, type Response } from 'express';
import { CONFIG, type RegistrarConfig } from '../config/config.js';
import { MetricsService } from '../observability/metrics.service.js';
import { DomainError, ErrorCode } from './errors.js';

/**
 * JSON body parsing as a Nest middleware, so that its failures (malformed JSON, oversized
 * or wrongly-typed bodies) go through the exception filter as coded 4xx errors.
 */
@Injectable()
export class JsonBodyMiddleware implements NestMiddleware {
  private readonly parse: ReturnType<typeof express.json>;

  private readonly limit: number;

  constructor(@Inject(CONFIG) config: RegistrarConfig, metrics: MetricsService) {
    this.limit = config.bodyLimitBytes;
    this.parse = express.json({
      limit: config.bodyLimitBytes,
      strict: true,
      verify: (_req, _res, buf) => metrics.httpBytesIn.inc(buf.length),
    });
  }

  async use(req: Request, res: Response, next: NextFunction): Promise<void> {
    const hasBody =
      req.headers['transfer-encoding'] !== undefined ||
      (req.headers['content-length'] !== undefined && req.headers['content-length'] !== '0');
    if (
      hasBody &&
      !['GET', 'HEAD', 'OPTIONS'].includes(req.method) &&
      !req.is('application/json')
    ) {
      throw new DomainError(
        ErrorCode.UNSUPPORTED_MEDIA_TYPE,
        'request bodies must be application/json',
      );
    }
    await new Promise<void>((resolve, reject) => {
      this.parse(req, res, (err?: unknown) =>
        err ? reject(mapError(err, this.limit)) : resolve(),
      );
    });
    const bad = forbiddenKey(req.body as unknown, 0);
    if (bad !== null) {
      throw new DomainError(ErrorCode.VALIDATION_FAILED, `property ${bad} is not allowed`);
    }
    next();
  }
}

const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

/** Prototype-pollution keys anywhere in a parsed body (the DTO whitelist cannot see them). */
export function forbiddenKey(value: unknown, depth: number): string | null {
  if (depth > 32 || value === null || typeof value !== 'object') return null;
  for (const key of Object.keys(value)) {
    if (FORBIDDEN_KEYS.has(key)) return key;
    const found = forbiddenKey((value as Record<string, unknown>)[key], depth + 1);
    if (found !== null) return found;
  }
  return null;
}

function mapError(err: unknown, limit: number): Error {
  const type = (err as { type?: unknown }).type;
  switch (type) {
    case 'entity.too.large':
      return new DomainError(ErrorCode.PAYLOAD_TOO_LARGE, `request body exceeds ${limit} bytes`);
    case 'entity.parse.failed':
      return new DomainError(ErrorCode.MALFORMED_BODY, 'request body is not valid JSON');
    case 'encoding.unsupported':
    case 'charset.unsupported':
      return new DomainError(ErrorCode.UNSUPPORTED_MEDIA_TYPE, 'unsupported body encoding');
    case 'request.size.invalid':
    case 'request.aborted':
      return new DomainError(ErrorCode.MALFORMED_BODY, 'request body is incomplete');
    default:
      return err instanceof Error ? err : new Error(String(err));
  }
}
