import { Writable } from 'node:stream';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { REDACT } from './app.module.js';

describe('log redaction', () => {
  it('never writes credentials', () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        lines.push(chunk.toString());
        done();
      },
    });
    const log = pino({ redact: { paths: REDACT, censor: '[redacted]' } }, sink);
    log.info({
      req: {
        headers: { authorization: 'Bearer s3cret-token', cookie: 'pf_session=s3cret-cookie' },
      },
      res: { headers: { 'set-cookie': 'pf_session=s3cret-set' } },
      body: { password: 's3cret-pw', code: 'S3CRT-CODE', proof: 's3cret-proof', token: 's3cret-t' },
      // TURN: the shared secret and a session's minted credential
      turn: { urls: ['turn:t:3478'], secret: 's3cret-turn' },
      iceServer: { username: '1:s.console', credential: 's3cret-hmac' },
    });
    const out = lines.join('');
    expect(out).not.toMatch(/s3cret|S3CRT/);
    expect(out).toContain('[redacted]');
  });
});
