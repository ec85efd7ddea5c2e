import { createHash, randomBytes } from 'node:crypto';

/** A high-entropy random secret, base64url (session tokens, MQTT passwords). */
export function randomSecret(bytes = 32): string {
  return randomBytes(bytes).toString('base64url');
}

/**
 * SHA-256 (hex) of a high-entropy secret. Right for random tokens, claim codes and MQTT
 * passwords (nothing to brute-force); user passwords use argon2id instead.
 */
export function sha256Hex(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex');
}

const CLAIM_ALPHABET = 'ABCDEFGHJKLMNPQRSTUVWXYZ23456789'; // no 0/O, 1/I

/** A claim code people can type: 4 groups of 5 from a 32-symbol alphabet (100 bits). */
export function randomClaimCode(): string {
  const bytes = randomBytes(20);
  let out = '';
  for (let i = 0; i < 20; i++) {
    out += CLAIM_ALPHABET[bytes[i]! & 31];
    if (i % 5 === 4 && i < 19) out += '-';
  }
  return out;
}

/** Canonical form used for hashing, so "abcde-fghij" and "ABCDEFGHIJ" match. */
export function normalizeClaimCode(code: string): string {
  return code.toUpperCase().replace(/[^A-Z0-9]/g, '');
}
