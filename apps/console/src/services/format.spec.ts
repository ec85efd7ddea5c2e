import { describe, expect, it } from 'vitest';
import { fingerprintLines, relativeTime, shortId } from './format.js';

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

  it('groups a 52-character fingerprint into lines of four groups of four', () => {
    const fp = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567ABCDEFGHIJKLMNOPQRST';
    expect(fp).toHaveLength(52);
    expect(fingerprintLines(fp.toLowerCase())).toEqual([
      'ABCD EFGH IJKL MNOP',
      'QRST UVWX YZ23 4567',
      'ABCD EFGH IJKL MNOP',
      'QRST',
    ]);
    expect(fingerprintLines('')).toEqual([]);
  });

  it('shortens ids', () => {
    expect(shortId('0b9f3c1e-4b1a')).toBe('0b9f3c1e');
  });
});
