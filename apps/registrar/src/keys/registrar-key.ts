import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import {
  type Ed25519KeyPair,
  type Ed25519PublicJwk,
  exportPublicJwk,
  jwkThumbprint,
  type Signer,
} from '@peerfetch/crypto';
import { loadOrCreateKeyFile, nodeSigner } from '@peerfetch/crypto/node';

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
