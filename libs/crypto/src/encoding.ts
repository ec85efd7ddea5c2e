// Byte and text encodings. Uint8Array only: this runs in browsers.
import { base64url } from 'jose';
import { CryptoError } from './errors.js';

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

export function utf8(text: string): Uint8Array {
  return encoder.encode(text);
}

export function fromUtf8(bytes: Uint8Array): string {
  try {
    return decoder.decode(bytes);
  } catch (cause) {
    throw new CryptoError('MALFORMED', 'invalid UTF-8', { cause });
  }
}

/** base64url without padding (RFC 4648 §5). */
export function toBase64url(bytes: Uint8Array): string {
  return base64url.encode(bytes);
}

const BASE64URL = /^[A-Za-z0-9_-]*$/;

/**
 * Strict base64url decoding (no padding, no other alphabet). `length`, when given, is the
 * exact number of bytes expected.
 */
export function fromBase64url(text: unknown, length?: number, what = 'value'): Uint8Array {
  if (typeof text !== 'string' || !BASE64URL.test(text) || text.length % 4 === 1) {
    throw new CryptoError('MALFORMED', `${what}: not base64url`);
  }
  let bytes: Uint8Array;
  try {
    bytes = base64url.decode(text);
  } catch (cause) {
    throw new CryptoError('MALFORMED', `${what}: not base64url`, { cause });
  }
  if (toBase64url(bytes) !== text) {
    throw new CryptoError('MALFORMED', `${what}: non-canonical base64url`);
  }
  if (length !== undefined && bytes.length !== length) {
    throw new CryptoError('MALFORMED', `${what}: expected ${length} bytes, got ${bytes.length}`);
  }
  return bytes;
}

const BASE32_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/** RFC 4648 base32, upper case, without padding. */
export function toBase32(bytes: Uint8Array): string {
  let out = '';
  let buffer = 0;
  let bits = 0;
  for (const byte of bytes) {
    buffer = ((buffer << 8) | byte) & 0xffff;
    bits += 8;
    while (bits >= 5) {
      out += BASE32_ALPHABET[(buffer >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += BASE32_ALPHABET[(buffer << (5 - bits)) & 31];
  return out;
}

export function toHex(bytes: Uint8Array): string {
  let out = '';
  for (const byte of bytes) out += byte.toString(16).padStart(2, '0');
  return out;
}

export function fromHex(text: string): Uint8Array {
  if (!/^(?:[0-9a-fA-F]{2})*$/.test(text)) throw new CryptoError('MALFORMED', 'not hex');
  const out = new Uint8Array(text.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = Number.parseInt(text.slice(2 * i, 2 * i + 2), 16);
  return out;
}

export function concatBytes(...parts: Uint8Array[]): Uint8Array {
  let length = 0;
  for (const part of parts) length += part.length;
  const out = new Uint8Array(length);
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

/** Constant-time for equal lengths (the lengths themselves are public). */
export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= (a[i] ?? 0) ^ (b[i] ?? 0);
  return diff === 0;
}

/**
 * Length-prefixed concatenation: each field is a 4-byte big-endian length followed by its
 * bytes. Unambiguous (no field can bleed into the next), trivially re-implemented in any
 * language. Used for every signed message of this library.
 */
export function encodeFields(fields: readonly Uint8Array[]): Uint8Array {
  const parts: Uint8Array[] = [];
  for (const field of fields) {
    const length = new Uint8Array(4);
    new DataView(length.buffer).setUint32(0, field.length, false);
    parts.push(length, field);
  }
  return concatBytes(...parts);
}
