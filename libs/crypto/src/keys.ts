// Ed25519 identities: generation, JWK/raw import and export, fingerprints, signing.
//
// Raw keys are 32-byte Uint8Arrays (RFC 8032 encodings). Signing and verification use
// @noble/curves (audited, synchronous, identical in Node and browsers); the console's
// ephemeral session key may instead live in WebCrypto as a non-extractable CryptoKey
// (`generateSessionSigner`). Both produce the same RFC 8032 deterministic signatures.
import { ed25519 } from '@noble/curves/ed25519.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { BoundedMap } from './bounded-map.js';
import { CryptoError } from './errors.js';
import { fromBase64url, toBase32, toBase64url, utf8 } from './encoding.js';

export const PUBLIC_KEY_LENGTH = 32;
export const SECRET_KEY_LENGTH = 32;
export const SIGNATURE_LENGTH = 64;
export const NONCE_LENGTH = 32;

/** Public Ed25519 key as a JWK (RFC 8037). */
export interface Ed25519PublicJwk {
  kty: 'OKP';
  crv: 'Ed25519';
  x: string;
  kid?: string;
}

/** Private Ed25519 key as a JWK (RFC 8037): `d` is the 32-byte seed. Store 0600. */
export interface Ed25519PrivateJwk extends Ed25519PublicJwk {
  d: string;
}

/** An extractable key pair (device identity, registrar grant key): raw 32-byte keys. */
export interface Ed25519KeyPair {
  readonly publicKey: Uint8Array;
  readonly secretKey: Uint8Array;
}

/**
 * Something that signs with an Ed25519 key: an extractable key pair or a non-extractable
 * WebCrypto key. The handshake and the enrollment proof only need this.
 */
export interface Signer {
  /** Raw 32-byte public key. */
  readonly publicKey: Uint8Array;
  sign(message: Uint8Array): Promise<Uint8Array>;
}

/** Cryptographically random bytes (WebCrypto `getRandomValues`). */
export function randomBytes(length: number): Uint8Array {
  const out = new Uint8Array(length);
  crypto.getRandomValues(out);
  return out;
}

/** A fresh 32-byte nonce. */
export function randomNonce(): Uint8Array {
  return randomBytes(NONCE_LENGTH);
}

export function generateKeyPair(): Ed25519KeyPair {
  const secretKey = ed25519.utils.randomSecretKey();
  return { secretKey, publicKey: ed25519.getPublicKey(secretKey) };
}

export function keyPairFromSecretKey(secretKey: Uint8Array): Ed25519KeyPair {
  if (!(secretKey instanceof Uint8Array) || secretKey.length !== SECRET_KEY_LENGTH) {
    throw new CryptoError('BAD_KEY', 'Ed25519 secret key must be 32 bytes');
  }
  return { secretKey: secretKey.slice(), publicKey: ed25519.getPublicKey(secretKey) };
}

/**
 * Keys recently found valid (base64url), so that a key checked again — a registrar's own
 * key, a session key read by `importPublicJwk` and then thumbprinted — skips the point
 * decompression (pure JS, ~0.1 ms). Validity depends on the bytes only; bounded, oldest out.
 */
const validKeys = new BoundedMap<string, true>(256);

/** Throws BAD_KEY unless `publicKey` is a valid 32-byte Ed25519 point (RFC 8032 strict). */
export function assertPublicKey(publicKey: unknown): asserts publicKey is Uint8Array {
  if (!(publicKey instanceof Uint8Array) || publicKey.length !== PUBLIC_KEY_LENGTH) {
    throw new CryptoError('BAD_KEY', 'not a valid Ed25519 public key');
  }
  const id = toBase64url(publicKey);
  if (validKeys.has(id)) return;
  if (!ed25519.utils.isValidPublicKey(publicKey, false)) {
    throw new CryptoError('BAD_KEY', 'not a valid Ed25519 public key');
  }
  validKeys.set(id, true);
}

export function exportPublicJwk(publicKey: Uint8Array): Ed25519PublicJwk {
  assertPublicKey(publicKey);
  return { kty: 'OKP', crv: 'Ed25519', x: toBase64url(publicKey) };
}

export function exportPrivateJwk(keyPair: Ed25519KeyPair): Ed25519PrivateJwk {
  return { ...exportPublicJwk(keyPair.publicKey), d: toBase64url(keyPair.secretKey) };
}

function jwkObject(jwk: unknown): Record<string, unknown> {
  if (typeof jwk !== 'object' || jwk === null || Array.isArray(jwk)) {
    throw new CryptoError('BAD_KEY', 'JWK must be an object');
  }
  const o = jwk as Record<string, unknown>;
  if (o['kty'] !== 'OKP' || o['crv'] !== 'Ed25519') {
    throw new CryptoError('BAD_KEY', 'JWK must be kty OKP, crv Ed25519');
  }
  if (o['alg'] !== undefined && o['alg'] !== 'EdDSA' && o['alg'] !== 'Ed25519') {
    throw new CryptoError('BAD_KEY', 'JWK alg must be EdDSA');
  }
  return o;
}

/**
 * Validates a public JWK (RFC 8037) and returns the raw 32-byte key. A JWK that carries a
 * private part (`d`) is refused: a public key slot must never receive a private key.
 */
export function importPublicJwk(jwk: unknown): Uint8Array {
  const o = jwkObject(jwk);
  if (o['d'] !== undefined) {
    throw new CryptoError('BAD_KEY', 'a public JWK must not contain the private key (d)');
  }
  return publicFromJwk(o);
}

function publicFromJwk(o: Record<string, unknown>): Uint8Array {
  let x: Uint8Array;
  try {
    x = fromBase64url(o['x'], PUBLIC_KEY_LENGTH, 'JWK x');
  } catch (cause) {
    throw new CryptoError('BAD_KEY', 'JWK x must be 32 bytes of base64url', { cause });
  }
  assertPublicKey(x);
  return x;
}

/** Validates a private JWK and returns the key pair; refuses a `d` that does not match `x`. */
export function importPrivateJwk(jwk: unknown): Ed25519KeyPair {
  const o = jwkObject(jwk);
  const publicKey = publicFromJwk(o);
  let d: Uint8Array;
  try {
    d = fromBase64url(o['d'], SECRET_KEY_LENGTH, 'JWK d');
  } catch (cause) {
    throw new CryptoError('BAD_KEY', 'JWK d must be 32 bytes of base64url', { cause });
  }
  const pair = keyPairFromSecretKey(d);
  if (!equalBytes(pair.publicKey, publicKey)) {
    throw new CryptoError('BAD_KEY', 'JWK d does not match x');
  }
  return pair;
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

export function sign(message: Uint8Array, secretKey: Uint8Array): Uint8Array {
  return ed25519.sign(message, secretKey);
}

/** RFC 8032 strict verification; false (never a throw) for any malformed input. */
export function verify(signature: Uint8Array, message: Uint8Array, publicKey: Uint8Array): boolean {
  if (signature.length !== SIGNATURE_LENGTH || publicKey.length !== PUBLIC_KEY_LENGTH) return false;
  try {
    return ed25519.verify(signature, message, publicKey, { zip215: false });
  } catch {
    return false;
  }
}

/** A `Signer` over an extractable key pair (device identity key). */
export function createSigner(keyPair: Ed25519KeyPair): Signer {
  const { publicKey, secretKey } = keyPair;
  return {
    publicKey: publicKey.slice(),
    sign: (message) => Promise.resolve(ed25519.sign(message, secretKey)),
  };
}

/**
 * An ephemeral session key in WebCrypto with a non-extractable private key (the console's
 * grant-bound key: script can use it but not read it). Works in Chromium and Node 20.
 */
export async function generateSessionSigner(): Promise<Signer> {
  const pair = await crypto.subtle.generateKey({ name: 'Ed25519' }, false, ['sign', 'verify']);
  // Node's typings return `CryptoKey | CryptoKeyPair` here; Ed25519 always yields a pair.
  if (!('privateKey' in pair)) throw new Error('WebCrypto returned no Ed25519 key pair');
  const publicKey = new Uint8Array(await crypto.subtle.exportKey('raw', pair.publicKey));
  const privateKey = pair.privateKey;
  return {
    publicKey,
    sign: async (message) =>
      new Uint8Array(
        await crypto.subtle.sign({ name: 'Ed25519' }, privateKey, new Uint8Array(message)),
      ),
  };
}

/** A key's fingerprint: SHA-256 of the raw public key, in display forms. */
export interface KeyFingerprint {
  /** 32 bytes. */
  bytes: Uint8Array;
  /** base64url, 43 characters (for URLs, JSON, QR codes). */
  base64url: string;
  /** RFC 4648 base32 without padding, 52 characters (for QR codes in alphanumeric mode). */
  base32: string;
  /** base32 in groups of 4 separated by spaces (for humans to compare). */
  display: string;
}

export function keyFingerprint(publicKey: Uint8Array): KeyFingerprint {
  assertPublicKey(publicKey);
  const bytes = sha256(publicKey);
  const base32 = toBase32(bytes);
  return {
    bytes,
    base64url: toBase64url(bytes),
    base32,
    display: base32.match(/.{1,4}/g)?.join(' ') ?? base32,
  };
}

/**
 * RFC 7638 JWK thumbprint (SHA-256, base64url) of an Ed25519 public key: the value of
 * a grant's `cnf.jkt` (RFC 7800) and of the registrar key's `kid`.
 */
export function jwkThumbprint(publicKey: Uint8Array): string {
  const { x } = exportPublicJwk(publicKey);
  return toBase64url(sha256(utf8(`{"crv":"Ed25519","kty":"OKP","x":"${x}"}`)));
}
