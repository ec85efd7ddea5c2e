// Enrollment proof: the agent proves possession of its identity key while redeeming a claim
// code, so a stolen code without the key is useless, and (the registrar's nonce being
// single-use) a captured proof cannot be replayed.
//
// message = fields("peerfetch-enroll-v1", utf8(code), nonce[32], publicKey[32])
// proof   = base64url(Ed25519 signature over message)   (see encodeFields in encoding.ts)
import { CryptoError } from './errors.js';
import { encodeFields, fromBase64url, toBase64url, utf8 } from './encoding.js';
import {
  type Ed25519PublicJwk,
  type Signer,
  NONCE_LENGTH,
  SIGNATURE_LENGTH,
  exportPublicJwk,
  importPublicJwk,
  randomNonce,
  verify,
} from './keys.js';

export const ENROLLMENT_LABEL = 'peerfetch-enroll-v1';
/** Upper bound on a claim code's length (characters), to bound the signed message. */
export const MAX_CLAIM_CODE_LENGTH = 256;

/** A fresh single-use enrollment nonce (base64url of 32 random bytes), for the registrar. */
export function createEnrollmentNonce(): string {
  return toBase64url(randomNonce());
}

export interface EnrollmentProofInput {
  /** The claim code exactly as sent in the request body. */
  code: string;
  /** The registrar's nonce, base64url (as returned by POST /api/enroll/challenge). */
  nonce: string;
  /** Raw 32-byte public key of the device. */
  publicKey: Uint8Array;
}

/** The exact bytes the enrollment proof signs. */
export function enrollmentProofMessage(input: EnrollmentProofInput): Uint8Array {
  if (
    typeof input.code !== 'string' ||
    input.code.length === 0 ||
    input.code.length > MAX_CLAIM_CODE_LENGTH
  ) {
    throw new CryptoError('MALFORMED', 'claim code must be a non-empty string');
  }
  const nonce = fromBase64url(input.nonce, NONCE_LENGTH, 'enrollment nonce');
  return encodeFields([utf8(ENROLLMENT_LABEL), utf8(input.code), nonce, input.publicKey]);
}

/** Agent side: the `publicKey` and `proof` fields of `POST /api/enroll`. */
export async function createEnrollmentProof(input: {
  code: string;
  nonce: string;
  signer: Signer;
}): Promise<{ publicKey: Ed25519PublicJwk; proof: string }> {
  const message = enrollmentProofMessage({
    code: input.code,
    nonce: input.nonce,
    publicKey: input.signer.publicKey,
  });
  const signature = await input.signer.sign(message);
  return { publicKey: exportPublicJwk(input.signer.publicKey), proof: toBase64url(signature) };
}

/**
 * Registrar side: checks the proof and returns the device's raw public key. Throws
 * `CryptoError` with BAD_KEY (publicKey not an Ed25519 JWK), MALFORMED (nonce or proof
 * not base64url of the right length) or BAD_PROOF (signature does not verify).
 * The registrar must itself check that the nonce was issued by it, is unexpired and unused,
 * and consume it (single use) whether or not the proof verifies.
 */
export function verifyEnrollmentProof(input: {
  code: string;
  nonce: string;
  publicKey: unknown;
  proof: unknown;
}): Uint8Array {
  const publicKey = importPublicJwk(input.publicKey);
  const signature = fromBase64url(input.proof, SIGNATURE_LENGTH, 'enrollment proof');
  const message = enrollmentProofMessage({ code: input.code, nonce: input.nonce, publicKey });
  if (!verify(signature, message, publicKey)) {
    throw new CryptoError('BAD_PROOF', 'enrollment proof does not verify');
  }
  return publicKey;
}
