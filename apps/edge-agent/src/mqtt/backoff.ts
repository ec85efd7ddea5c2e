// Capped exponential backoff with jitter ("equal jitter": half fixed, half random), so a
// fleet that lost its broker does not reconnect in lockstep, and never retries in a tight
// loop.

export interface BackoffOptions {
  initialMs?: number;
  maxMs?: number;
  factor?: number;
  random?: () => number;
}

export function backoffDelay(attempt: number, options: BackoffOptions = {}): number {
  const initial = options.initialMs ?? 1000;
  const max = options.maxMs ?? 60_000;
  const factor = options.factor ?? 2;
  const random = options.random ?? Math.random;
  const cap = Math.min(max, initial * factor ** Math.min(attempt, 62));
  return Math.round(cap / 2 + random() * (cap / 2));
}
