/**
 * Every failure of this library is a `CryptoError` with a stable `code`. Codes are part of
 * the handshake wire format (an `error` message carries one) and of the public API: callers
 * switch on them, tests assert them. Messages are for humans and never contain key material.
 */
export const CryptoErrorCode = {
  /** Input is not what the format says (bad JSON, wrong length, bad base64url, …). */
  MALFORMED: 'MALFORMED',
  /** A key (JWK or raw) is not a valid Ed25519 key of the expected kind. */
  BAD_KEY: 'BAD_KEY',
  /** A signature does not verify under the key it claims. */
  BAD_SIGNATURE: 'BAD_SIGNATURE',
  /** The enrollment proof does not verify (wrong key, code, or nonce). */
  BAD_PROOF: 'BAD_PROOF',
  /** The peer signed a different transcript than the one we computed (a field was changed in transit). */
  TRANSCRIPT_MISMATCH: 'TRANSCRIPT_MISMATCH',
  /** The DTLS fingerprints the peer saw differ from ours: possible man-in-the-middle. */
  FINGERPRINT_MISMATCH: 'FINGERPRINT_MISMATCH',
  /** A nonce was seen before (replay) or reflected back at us. */
  NONCE_REPLAY: 'NONCE_REPLAY',
  /** The grant is expired, not yet valid, or lives longer than the maximum lifetime. */
  GRANT_EXPIRED: 'GRANT_EXPIRED',
  /** The grant is for another device. */
  GRANT_WRONG_DEVICE: 'GRANT_WRONG_DEVICE',
  /** The grant was not signed by the pinned registrar key (or names another issuer). */
  GRANT_BAD_SIGNATURE: 'GRANT_BAD_SIGNATURE',
  /** The grant is bound (cnf.jkt) to another session key than the one that signed the handshake. */
  GRANT_KEY_MISMATCH: 'GRANT_KEY_MISMATCH',
  /** The grant is well signed but its claims are invalid (role, routes, …). */
  GRANT_INVALID: 'GRANT_INVALID',
  /** The device presented another identity key than the one pinned for it: possible man-in-the-middle. */
  DEVICE_KEY_CHANGED: 'DEVICE_KEY_CHANGED',
  /** The device answered with another device id than the one we called. */
  DEVICE_ID_MISMATCH: 'DEVICE_ID_MISMATCH',
  /** The peer speaks another handshake version. */
  UNSUPPORTED_VERSION: 'UNSUPPORTED_VERSION',
  /** The handshake did not finish in time. */
  TIMEOUT: 'TIMEOUT',
  /** The channel closed before the handshake finished. */
  CLOSED: 'CLOSED',
} as const;
export type CryptoErrorCode = (typeof CryptoErrorCode)[keyof typeof CryptoErrorCode];

const codes = new Set<string>(Object.values(CryptoErrorCode));
export function isCryptoErrorCode(value: unknown): value is CryptoErrorCode {
  return typeof value === 'string' && codes.has(value);
}

export class CryptoError extends Error {
  override readonly name: string = 'CryptoError';
  readonly code: CryptoErrorCode;
  constructor(code: CryptoErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

/**
 * A handshake failure. `remote` is true when the peer reported the failure (it sent an
 * `error` message), false when we detected it.
 */
export class HandshakeError extends CryptoError {
  override readonly name = 'HandshakeError';
  readonly remote: boolean;
  constructor(
    code: CryptoErrorCode,
    message: string,
    options?: { cause?: unknown; remote?: boolean },
  ) {
    super(code, message, options);
    this.remote = options?.remote ?? false;
  }
}

export const MITM_WARNING = 'possible man-in-the-middle';
