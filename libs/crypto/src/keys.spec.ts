import { describe, expect, it } from 'vitest';
import { calculateJwkThumbprint } from 'jose';
import { CryptoError } from './errors.js';
import { toBase64url } from './encoding.js';
import {
  assertPublicKey,
  createSigner,
  exportPrivateJwk,
  exportPublicJwk,
  generateKeyPair,
  generateSessionSigner,
  importPrivateJwk,
  importPublicJwk,
  jwkThumbprint,
  keyFingerprint,
  randomNonce,
  verify,
} from './keys.js';

describe('keys', () => {
  it('exports RFC 8037 JWKs', () => {
    const pair = generateKeyPair();
    const jwk = exportPrivateJwk(pair);
    expect(jwk).toEqual({
      kty: 'OKP',
      crv: 'Ed25519',
      x: toBase64url(pair.publicKey),
      d: toBase64url(pair.secretKey),
    });
    expect(importPrivateJwk(jwk).publicKey).toEqual(pair.publicKey);
  });

  it('refuses a private JWK whose d does not match x', () => {
    const a = exportPrivateJwk(generateKeyPair());
    const b = exportPrivateJwk(generateKeyPair());
    expect(() => importPrivateJwk({ ...a, d: b.d })).toThrow(/does not match/);
  });

  it.each([
    ['not an object', 'x'],
    ['wrong kty', { kty: 'EC', crv: 'Ed25519', x: 'AA' }],
    ['wrong crv', { kty: 'OKP', crv: 'X25519', x: toBase64url(new Uint8Array(32)) }],
    ['short x', { kty: 'OKP', crv: 'Ed25519', x: 'AAAA' }],
    ['wrong alg', { kty: 'OKP', crv: 'Ed25519', x: 'AA', alg: 'RS256' }],
  ])('refuses a public JWK: %s', (_name, jwk) => {
    expect(() => importPublicJwk(jwk)).toThrow(CryptoError);
    try {
      importPublicJwk(jwk);
    } catch (error) {
      expect((error as CryptoError).code).toBe('BAD_KEY');
    }
  });

  it('refuses an x that is not a curve point', () => {
    // y = 2 is not on the curve (no x with x² = (y²−1)/(dy²+1) for it).
    const bad = new Uint8Array(32);
    bad[0] = 2;
    expect(() => exportPublicJwk(bad)).toThrow(CryptoError);
  });

  it('remembers valid keys only: a bad point is refused every time, a good one accepted', () => {
    const bad = new Uint8Array(32);
    bad[0] = 2;
    const good = generateKeyPair().publicKey;
    for (let i = 0; i < 3; i++) {
      expect(() => assertPublicKey(bad)).toThrow(CryptoError);
      expect(() => assertPublicKey(good)).not.toThrow();
    }
    expect(() => assertPublicKey(good.slice(0, 31))).toThrow(CryptoError);
  });

  it('fingerprint: SHA-256 of the raw key in base64url, base32 and grouped base32', () => {
    const fp = keyFingerprint(generateKeyPair().publicKey);
    expect(fp.bytes).toHaveLength(32);
    expect(fp.base64url).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(fp.base32).toMatch(/^[A-Z2-7]{52}$/);
    expect(fp.display.replace(/ /g, '')).toBe(fp.base32);
    expect(fp.display.split(' ')[0]).toHaveLength(4);
  });

  it('jwkThumbprint matches jose (RFC 7638)', async () => {
    const pair = generateKeyPair();
    expect(jwkThumbprint(pair.publicKey)).toBe(
      await calculateJwkThumbprint(exportPublicJwk(pair.publicKey), 'sha256'),
    );
  });

  it('noble and WebCrypto signatures verify under each other', async () => {
    const message = randomNonce();
    const webcrypto = await generateSessionSigner();
    expect(verify(await webcrypto.sign(message), message, webcrypto.publicKey)).toBe(true);
    const pair = generateKeyPair();
    const signature = await createSigner(pair).sign(message);
    const key = await crypto.subtle.importKey(
      'raw',
      new Uint8Array(pair.publicKey),
      'Ed25519',
      false,
      ['verify'],
    );
    expect(
      await crypto.subtle.verify(
        'Ed25519',
        key,
        new Uint8Array(signature),
        new Uint8Array(message),
      ),
    ).toBe(true);
  });

  it('verify returns false (never throws) on malformed input', () => {
    const pair = generateKeyPair();
    expect(verify(new Uint8Array(63), new Uint8Array(1), pair.publicKey)).toBe(false);
    expect(verify(new Uint8Array(64), new Uint8Array(1), new Uint8Array(31))).toBe(false);
    expect(verify(new Uint8Array(64).fill(255), new Uint8Array(1), pair.publicKey)).toBe(false);
  });

  it('nonces are 32 fresh bytes', () => {
    expect(randomNonce()).toHaveLength(32);
    expect(randomNonce()).not.toEqual(randomNonce());
  });
});

describe('public JWK slots', () => {
  it('refuse a JWK that carries the private key', () => {
    const jwk = exportPrivateJwk(generateKeyPair());
    expect(() => importPublicJwk(jwk)).toThrow(expect.objectContaining({ code: 'BAD_KEY' }));
  });
});
