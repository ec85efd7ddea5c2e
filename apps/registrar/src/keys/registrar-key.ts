import {
  createPrivateKey,
  createPublicKey,
  type JsonWebKey,
  type KeyObject,
  sign,
  verify,
} from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import {
  type Ed25519KeyPair,
  type Ed25519PublicJwk,
  exportPrivateJwk,
  exportPublicJwk,
  jwkThumbprint,
  type Signer,
} from '@peerfetch/crypto';
import { loadOrCreateKeyFile } from '@peerfetch/crypto/node';

/** The registrar's Ed25519 signing key (grants), kept in a 0600 JWK file. */
export interface RegistrarKey {
  keyPair: Ed25519KeyPair;
  /**
   * The same key for signing grants through `node:crypto` (OpenSSL): one grant per
   * session request, ~30 µs instead of ~1 ms through WebCrypto key import and JOSE.
   */
  signer: Signer;
  publicJwk: Ed25519PublicJwk;
  /** RFC 7638 thumbprint: the `kid` of the grants it signs. */
  kid: string;
  created: boolean;
}

export const REGISTRAR_KEY = Symbol('RegistrarKey');

/** A `Signer` over `node:crypto` (RFC 8032 Ed25519: the same signatures as @noble/curves). */
export function nodeSigner(keyPair: Ed25519KeyPair): Signer {
  const jwk: JsonWebKey = { ...exportPrivateJwk(keyPair) };
  const key = createPrivateKey({ key: jwk, format: 'jwk' });
  const publicKey = keyPair.publicKey.slice();
  return {
    publicKey,
    sign: (message) => Promise.resolve(new Uint8Array(sign(null, message, key))),
  };
}

const publicKeys = new Map<string, KeyObject>();

/**
 * RFC 8032 Ed25519 verification through `node:crypto` (OpenSSL), false for any bad input:
 * `verifyGrant`'s `verifySignature` for the grant in every offer (~0.1 ms instead of a
 * WebCrypto round trip through JOSE). The public keys are the registrar's own few.
 */
export function nodeVerify(
  signature: Uint8Array,
  message: Uint8Array,
  publicKey: Uint8Array,
): boolean {
  if (signature.length !== 64 || publicKey.length !== 32) return false;
  const x = Buffer.from(publicKey).toString('base64url');
  let key = publicKeys.get(x);
  if (!key) {
    key = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x }, format: 'jwk' });
    if (publicKeys.size >= 16) publicKeys.clear();
    publicKeys.set(x, key);
  }
  try {
    return verify(null, message, key, signature);
  } catch {
    return false;
  }
}

export async function loadRegistrarKey(path: string): Promise<RegistrarKey> {
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const { keyPair, created } = await loadOrCreateKeyFile(path);
  return {
    keyPair,
    signer: nodeSigner(keyPair),
    publicJwk: exportPublicJwk(keyPair.publicKey),
    kid: jwkThumbprint(keyPair.publicKey),
    created,
  };
}
