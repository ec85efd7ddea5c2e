import { generateKeyPair, keyFingerprint } from '@peerfetch/crypto';
import { describe, expect, it } from 'vitest';
import {
  bytes,
  duration,
  fingerprintLines,
  fromBase64url,
  relativeTime,
  shortId,
  toBase32,
} from './format.js';

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

  it('prints sizes and durations for people', () => {
    expect(bytes(512)).toBe('512 B');
    expect(bytes(1536)).toBe('1.5 KB');
    expect(bytes(3 * 1024 ** 3)).toBe('3.0 GB');
    expect(bytes(20 * 1024 ** 3)).toBe('20 GB');
    expect(duration(42)).toBe('42 s');
    expect(duration(3700)).toBe('1 h 1 min');
    expect(duration(93_784)).toBe('1 d 2 h');
  });

  it('shortens ids', () => {
    expect(shortId('0b9f3c1e-4b1a')).toBe('0b9f3c1e');
  });
});
