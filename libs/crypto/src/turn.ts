// Short-lived TURN credentials: the "TURN REST API" scheme (draft-uberti-behave-turn-rest-00)
// that coturn implements with `use-auth-secret` + `static-auth-secret=<secret>`.
//
//   username   = "<expiry unix seconds>:<userId>"
//   credential = base64(HMAC-SHA1(secret, username))
//
// The TURN server recomputes the credential from the shared secret and refuses the
// allocation (401) once the expiry in the username has passed: clients never hold a static
// credential, only one that dies with the session. Browser-safe (@noble/hashes).
import { hmac } from '@noble/hashes/hmac.js';
import { sha1 } from '@noble/hashes/legacy.js';
import { utf8 } from './encoding.js';
import { CryptoError } from './errors.js';

export interface TurnCredentialsInput {
  /** The TURN server's `static-auth-secret` (never sent to clients). */
  secret: string;
  /** Who the credentials are for; shows in the TURN server's log. No `:` allowed. */
  userId: string;
  /** Lifetime in seconds (may be ≤ 0 in tests: already expired credentials). */
  ttlSeconds: number;
  /** Current time in ms (default `Date.now()`). */
  now?: number;
}

export interface TurnCredentials {
  username: string;
  credential: string;
  /** Expiry in ms since the epoch (the username carries it in seconds). */
  expiresAt: number;
}

const MAX_TTL_S = 24 * 3600;

export function createTurnCredentials(input: TurnCredentialsInput): TurnCredentials {
  const { secret, userId, ttlSeconds } = input;
  if (typeof secret !== 'string' || secret.length === 0) {
    throw new CryptoError('MALFORMED', 'TURN secret: empty');
  }
  if (typeof userId !== 'string' || userId.length === 0 || userId.length > 256) {
    throw new CryptoError('MALFORMED', 'TURN userId: empty or too long');
  }
  // ':' separates expiry and user; control characters have no place in a STUN USERNAME
  if (/[:\p{Cc}]/u.test(userId)) {
    throw new CryptoError('MALFORMED', 'TURN userId: contains ":" or a control character');
  }
  if (!Number.isInteger(ttlSeconds) || ttlSeconds > MAX_TTL_S) {
    throw new CryptoError('MALFORMED', `TURN ttlSeconds: integer ≤ ${MAX_TTL_S} expected`);
  }
  const nowMs = input.now ?? Date.now();
  const expiry = Math.floor(nowMs / 1000) + ttlSeconds;
  const username = `${expiry}:${userId}`;
  const mac = hmac(sha1, utf8(secret), utf8(username));
  return { username, credential: toBase64(mac), expiresAt: expiry * 1000 };
}

/** Standard base64 with padding (RFC 4648 §4), as coturn compares it. */
function toBase64(bytes: Uint8Array): string {
  let binary = '';
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary);
}
