// Formatting for people. Pure functions: `now` is passed in.

const UNITS: [Intl.RelativeTimeFormatUnit, number][] = [
  ['day', 86_400_000],
  ['hour', 3_600_000],
  ['minute', 60_000],
];

/** "just now", "4 minutes ago", "in 2 hours", "3 days ago". */
export function relativeTime(ts: number, now: number, locale = 'en'): string {
  const diff = ts - now;
  const abs = Math.abs(diff);
  if (abs < 45_000) return 'just now';
  const rtf = new Intl.RelativeTimeFormat(locale, { numeric: 'auto' });
  for (const [unit, ms] of UNITS) {
    // 0.95: "in 59.9 minutes" reads better as "in 1 hour".
    if (abs >= ms * 0.95 || unit === 'minute') return rtf.format(Math.round(diff / ms), unit);
  }
  return 'just now';
}

export function dateTime(ts: number, locale = 'en'): string {
  return new Intl.DateTimeFormat(locale, { dateStyle: 'medium', timeStyle: 'short' }).format(ts);
}

/**
 * A key fingerprint for people to compare out loud: groups of 4 characters, 4 groups per
 * line (as `keyFingerprint().display` in libs/crypto, wrapped for small screens).
 */
export function fingerprintLines(fingerprint: string): string[] {
  const clean = fingerprint.replace(/\s+/g, '').toUpperCase();
  const groups = clean.match(/.{1,4}/g) ?? [];
  const lines: string[] = [];
  for (let i = 0; i < groups.length; i += 4) lines.push(groups.slice(i, i + 4).join(' '));
  return lines;
}

export function shortId(id: string): string {
  return id.slice(0, 8);
}
