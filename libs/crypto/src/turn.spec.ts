import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { CryptoError } from './errors.js';
import { createTurnCredentials } from './turn.js';

describe('createTurnCredentials (coturn use-auth-secret)', () => {
  it('matches HMAC-SHA1 computed independently with node:crypto', () => {
    const now = Date.UTC(2026, 10, 25, 12, 0, 0);
    const c = createTurnCredentials({
      secret: 's3cr3t-shared',
      userId: 'session-42',
      ttlSeconds: 600,
      now,
    });
    const expiry = now / 1000 + 600;
    expect(c.username).toBe(`${expiry}:session-42`);
    expect(c.expiresAt).toBe(expiry * 1000);
    const expected = createHmac('sha1', 's3cr3t-shared').update(c.username).digest('base64');
    expect(c.credential).toBe(expected);
  });

  it('known answer (fixed vector)', () => {
    // username "1764072600:alice", secret "north" — value from node:crypto, pinned
    const c = createTurnCredentials({
      secret: 'north',
      userId: 'alice',
      ttlSeconds: 0,
      now: 1_764_072_600_000,
    });
    expect(c.username).toBe('1764072600:alice');
    expect(c.credential).toBe(
      createHmac('sha1', 'north').update('1764072600:alice').digest('base64'),
    );
    expect(c.credential).toBe(PINNED);
  });

  it('expired credentials carry a past expiry', () => {
    const now = 1_800_000_000_000;
    const c = createTurnCredentials({ secret: 'x', userId: 'u', ttlSeconds: -60, now });
    expect(c.expiresAt).toBeLessThan(now);
    expect(c.username.startsWith(`${now / 1000 - 60}:`)).toBe(true);
  });

  it('rejects bad input', () => {
    const ok = { secret: 'x', userId: 'u', ttlSeconds: 60 };
    for (const bad of [
      { ...ok, secret: '' },
      { ...ok, userId: '' },
      { ...ok, userId: 'a:b' },
      { ...ok, userId: 'a\nb' },
      { ...ok, ttlSeconds: 1.5 },
      { ...ok, ttlSeconds: 10 * 24 * 3600 },
    ]) {
      expect(() => createTurnCredentials(bad)).toThrow(CryptoError);
    }
  });
});

const PINNED = 'P90fcq90inOH2IMmEqgNDWq5/zs=';
