import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,64}$/;

/** Correlation id: a sane incoming X-Request-Id, else a fresh UUID (set by pino-http). */
export function genRequestId(req: IncomingMessage): string {
  const incoming = req.headers['x-request-id'];
  return typeof incoming === 'string' && REQUEST_ID.test(incoming) ? incoming : randomUUID();
}

export function correlationIdOf(req: unknown): string {
  const id = (req as { id?: unknown } | undefined)?.id;
  return typeof id === 'string' ? id : 'unknown';
}

/** Client IP as Express sees it (honours `trust proxy` when configured). */
export function sourceIpOf(req: unknown): string | null {
  const ip = (req as { ip?: unknown } | undefined)?.ip;
  return typeof ip === 'string' ? ip : null;
}
