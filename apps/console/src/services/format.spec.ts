import { generateKeyPair, keyFingerprint } from '@peerfetch/crypto';
import { describe, expect, it } from 'vitest';
import { fingerprintLines, fromBase64url, relativeTime, shortId, toBase32 } from './format.js';

const NOW = 1_750_000_000_000;

describe('format', () => {
  it('describes times relative to now', () => {
    expect(relativeTime(NOW - 10_000, NOW)).toBe('just now');
    expect(relativeTime(NOW - 4 * 60_000, NOW)).toBe('4 minutes ago');
    expect(relativeTime(NOW - 3 * 3_600_000, NOW)).toBe('3 hours ago');
    expect(relativeTime(NOW - 2 * 86_400_000, NOW)).toBe('2 days ago');
    expect(relativeTime(NOW + 2 * 3_600_000, NOW)).toBe('in 2 hours');
    expect(relativeTime(NOW + 3_599_000, NOW)).toBe('in 1 hour');
    expect(relativeTime(NOW + 30 * 60_000, NOW)).toBe('in 30 minutes');
  });

  it('encodes RFC 4648 test vectors', () => {
    const utf8 = (s: string) => new TextEncoder().encode(s);
    expect(toBase32(utf8('foobar'))).toBe('MZXW6YTBOI');
    expect(toBase32(utf8('f'))).toBe('MY');
    expect(fromBase64url('Zm9vYmFy')).toEqual(utf8('foobar'));
    expect(fromBase64url('Zg')).toEqual(utf8('f'));
    expect(fromBase64url('not+base64url')).toBeNull();
  });

  it('shows the registrar’s fingerprint exactly as the agent prints it (libs/crypto)', () => {
    for (let i = 0; i < 5; i++) {
      const fp = keyFingerprint(generateKeyPair().publicKey);
      const lines = fingerprintLines(fp.base64url);
      expect(lines.join(' ')).toBe(fp.display);
      expect(lines.length).toBe(4);
      expect(lines[0]?.split(' ')).toHaveLength(4);
    }
  });

  it('shows a malformed fingerprint as it came', () => {
    expect(fingerprintLines('???')).toEqual(['???']);
  });

  it('shortens ids', () => {
    expect(shortId('0b9f3c1e-4b1a')).toBe('0b9f3c1e');
  });
});
