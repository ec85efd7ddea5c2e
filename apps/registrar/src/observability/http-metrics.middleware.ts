import type { NextFunction, Request, Response } from 'express';
import type { MetricsService } from './metrics.service.js';

/**
 * Express middleware counting requests, response bytes and durations (request body bytes
 * are counted by the JSON body parser, the only reader of request bodies).
 */
export function httpMetrics(metrics: MetricsService) {
  return (req: Request, res: Response, next: NextFunction): void => {
    const started = process.hrtime.bigint();
    let bytesOut = 0;
    const write = res.write.bind(res) as (...args: unknown[]) => boolean;
    const end = res.end.bind(res) as (...args: unknown[]) => Response;
    const count = (chunk: unknown, encoding: unknown): void => {
      if (typeof chunk === 'string') {
        bytesOut += Buffer.byteLength(
          chunk,
          typeof encoding === 'string' ? (encoding as BufferEncoding) : 'utf8',
        );
      } else if (chunk instanceof Uint8Array) {
        bytesOut += chunk.byteLength;
      }
    };
    res.write = ((chunk: unknown, ...rest: unknown[]) => {
      count(chunk, rest[0]);
      return write(chunk, ...rest);
    }) as Response['write'];
    res.end = ((chunk?: unknown, ...rest: unknown[]) => {
      if (chunk !== undefined && typeof chunk !== 'function') count(chunk, rest[0]);
      return end(chunk, ...rest);
    }) as Response['end'];
    res.on('finish', () => {
      const route = (req.route as { path?: string } | undefined)?.path;
      const label = route ? `${req.baseUrl}${route}` : 'unmatched';
      metrics.httpRequests.inc({
        method: req.method,
        route: label,
        status: String(res.statusCode),
      });
      metrics.httpBytesOut.inc(bytesOut);
      metrics.httpDuration.observe(
        { method: req.method, route: label },
        Number(process.hrtime.bigint() - started) / 1e9,
      );
    });
    next();
  };
}
