// The handshake transcript: the exact bytes each side signs. Deterministic, binary,
// length-prefixed (see `encodeFields`), ordered by ROLE (console, device) — never by
// local/remote — so that both sides compute the same bytes when nobody tampered, except
// for the signer's role, which separates the two signatures (no reflection).
//
// transcript = fields(
//   "peerfetch-handshake-v1",
//   signerRole            "console" | "device"
//   deviceId              UTF-8
//   consoleNonce          32 bytes
//   deviceNonce           32 bytes
//   consoleFingerprint    hash name, e.g. "sha-256"   } the console's DTLS certificate
//   consoleFingerprint    digest bytes                }
//   deviceFingerprint     hash name                   } the device's DTLS certificate
//   deviceFingerprint     digest bytes                }
//   deviceKey             32 bytes (Ed25519 identity key)
//   sessionKey            32 bytes (console's Ed25519 session key, bound by the grant)
//   grantHash             32 bytes = SHA-256(ASCII JWS compact serialization of the grant)
// )
// where fields(f1, …, fn) = u32be(len f1) ‖ f1 ‖ … ‖ u32be(len fn) ‖ fn.
import { sha256 } from '@noble/hashes/sha2.js';
import { CryptoError } from './errors.js';
import { encodeFields, utf8 } from './encoding.js';
import { type DtlsFingerprint, toFingerprint } from './fingerprint.js';
import { NONCE_LENGTH, PUBLIC_KEY_LENGTH } from './keys.js';

export const HANDSHAKE_LABEL = 'peerfetch-handshake-v1';

export type HandshakeRole = 'console' | 'device';

export interface TranscriptInput {
  deviceId: string;
  consoleNonce: Uint8Array;
  deviceNonce: Uint8Array;
  consoleFingerprint: DtlsFingerprint | string;
  deviceFingerprint: DtlsFingerprint | string;
  deviceKey: Uint8Array;
  sessionKey: Uint8Array;
  /** The grant, JWS compact serialization. */
  grant: string;
}

function check(bytes: Uint8Array, length: number, what: string): Uint8Array {
  if (!(bytes instanceof Uint8Array) || bytes.length !== length) {
    throw new CryptoError('MALFORMED', `${what} must be ${length} bytes`);
  }
  return bytes;
}

/** The bytes `signer` signs (and its peer verifies). */
export function encodeTranscript(signer: HandshakeRole, input: TranscriptInput): Uint8Array {
  if (signer !== 'console' && signer !== 'device') {
    throw new CryptoError('MALFORMED', 'role must be console or device');
  }
  const consoleFp = toFingerprint(input.consoleFingerprint);
  const deviceFp = toFingerprint(input.deviceFingerprint);
  return encodeFields([
    utf8(HANDSHAKE_LABEL),
    utf8(signer),
    utf8(input.deviceId),
    check(input.consoleNonce, NONCE_LENGTH, 'console nonce'),
    check(input.deviceNonce, NONCE_LENGTH, 'device nonce'),
    utf8(consoleFp.algorithm),
    consoleFp.bytes,
    utf8(deviceFp.algorithm),
    deviceFp.bytes,
    check(input.deviceKey, PUBLIC_KEY_LENGTH, 'device key'),
    check(input.sessionKey, PUBLIC_KEY_LENGTH, 'session key'),
    sha256(utf8(input.grant)),
  ]);
}

/** SHA-256 of a transcript (sent alongside the signature to tell tampering from forgery). */
export function transcriptHash(transcript: Uint8Array): Uint8Array {
  return sha256(transcript);
}
