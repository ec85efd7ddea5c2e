// DTLS certificate fingerprints as carried in SDP (`a=fingerprint:sha-256 AB:CD:…`,
// RFC 8122 §5): parsing, normalization and comparison.
import { CryptoError } from './errors.js';
import { bytesEqual, toHex } from './encoding.js';

const HASH_LENGTHS: Record<string, number> = { 'sha-256': 32, 'sha-384': 48, 'sha-512': 64 };

/** A normalized DTLS fingerprint: lower-case hash name and the digest bytes. */
export interface DtlsFingerprint {
  algorithm: 'sha-256' | 'sha-384' | 'sha-512';
  bytes: Uint8Array;
}

/**
 * Parses `"sha-256 AB:CD:…"` (the value of an `a=fingerprint:` line; case and colon
 * insensitive). Only SHA-2 hashes are accepted (SHA-1 and MD5 are refused).
 */
export function parseFingerprint(value: string): DtlsFingerprint {
  const match = /^\s*([A-Za-z0-9-]+)\s+([0-9A-Fa-f:]+)\s*$/.exec(value);
  if (!match) throw new CryptoError('MALFORMED', 'not a DTLS fingerprint');
  const algorithm = (match[1] ?? '').toLowerCase();
  const length = HASH_LENGTHS[algorithm];
  if (length === undefined) {
    throw new CryptoError('MALFORMED', `unsupported fingerprint hash ${algorithm}`);
  }
  const text = match[2] ?? '';
  const hex = text.includes(':')
    ? text.split(':').map((octet) => {
        if (octet.length !== 2) throw new CryptoError('MALFORMED', 'bad fingerprint octet');
        return octet;
      })
    : (text.match(/.{2}/g) ?? []);
  if (hex.length !== length || hex.join('').length !== 2 * length) {
    throw new CryptoError('MALFORMED', `${algorithm} fingerprint must be ${length} bytes`);
  }
  const bytes = Uint8Array.from(hex, (h) => Number.parseInt(h, 16));
  return { algorithm: algorithm as DtlsFingerprint['algorithm'], bytes };
}

/**
 * The DTLS fingerprint of an SDP. All `a=fingerprint` lines (session or media level) must
 * be identical: an SDP with two different fingerprints — even of different hash
 * algorithms — or none is refused (MALFORMED). This is a security property, not pedantry:
 * a DTLS stack accepts a certificate that matches *any* listed fingerprint, so if a relay
 * could add a second line (its own certificate) next to the genuine one, the handshake
 * would compare the genuine one while DTLS talked to the relay. Parse the SDP the stack
 * actually applied (`pc.remoteDescription`, `pc.localDescription`).
 */
export function parseSdpFingerprint(sdp: string): DtlsFingerprint {
  let found: DtlsFingerprint | undefined;
  for (const line of sdp.split(/\r?\n/)) {
    if (!line.startsWith('a=fingerprint:')) continue;
    const fingerprint = parseFingerprint(line.slice('a=fingerprint:'.length));
    if (found && !fingerprintsEqual(found, fingerprint)) {
      throw new CryptoError('MALFORMED', 'SDP carries more than one DTLS fingerprint');
    }
    found = fingerprint;
  }
  if (!found) throw new CryptoError('MALFORMED', 'SDP carries no DTLS fingerprint');
  return found;
}

export function toFingerprint(value: DtlsFingerprint | string): DtlsFingerprint {
  if (typeof value === 'string') return parseFingerprint(value);
  const length = HASH_LENGTHS[value.algorithm];
  if (
    length === undefined ||
    !(value.bytes instanceof Uint8Array) ||
    value.bytes.length !== length
  ) {
    throw new CryptoError('MALFORMED', 'not a DTLS fingerprint');
  }
  return value;
}

export function fingerprintsEqual(a: DtlsFingerprint, b: DtlsFingerprint): boolean {
  return a.algorithm === b.algorithm && bytesEqual(a.bytes, b.bytes);
}

/** Canonical text form: `sha-256 AB:CD:…` (upper-case hex, as browsers write it). */
export function formatFingerprint(fingerprint: DtlsFingerprint): string {
  const hex = toHex(fingerprint.bytes).toUpperCase().match(/.{2}/g) ?? [];
  return `${fingerprint.algorithm} ${hex.join(':')}`;
}
