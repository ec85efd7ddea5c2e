// Serves the built console (a single-page app) at `/` when CONSOLE_DIR is set: static files,
// and index.html for any other GET that accepts HTML and is not an API/ops route.
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import express, { type NextFunction, type Request, type Response } from 'express';

const NOT_SPA = /^\/(api|health|ready|metrics)(\/|$)/;

export function staticConsole(dir: string) {
  const root = resolve(dir);
  const index = join(root, 'index.html');
  if (!existsSync(index)) throw new Error(`CONSOLE_DIR ${root} has no index.html`);
  const files = express.static(root, { index: false, fallthrough: true, maxAge: '1h' });
  return [
    (req: Request, res: Response, next: NextFunction): void => {
      if (NOT_SPA.test(req.path)) return next();
      files(req, res, next);
    },
    (req: Request, res: Response, next: NextFunction): void => {
      if ((req.method !== 'GET' && req.method !== 'HEAD') || NOT_SPA.test(req.path)) return next();
      if (!req.accepts('html')) return next();
      res.setHeader('Cache-Control', 'no-cache');
      res.sendFile(index);
    },
  ];
}

/** Conservative security headers for every response. */
export function securityHeaders(_req: Request, res: Response, next: NextFunction): void {
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.setHeader('X-Frame-Options', 'DENY');
  res.setHeader('Referrer-Policy', 'no-referrer');
  next();
}
