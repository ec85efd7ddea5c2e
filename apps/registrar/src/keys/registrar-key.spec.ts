import { generateKeyPair, sign, utf8, verify } from '@peerfetch/crypto';
import { describe, expect, it } from 'vitest';
import { nodeSigner, nodeVerify } from './registrar-key.js';

describe('nodeSigner', () => {
  it('signs like @noble/curves (RFC 8032 is deterministic) with the same public key', async () => {
    const pair = generateKeyPair();
    const signer = nodeSigner(pair);
    const message = utf8('header.payload');
    const signature = await signer.sign(message);
    expect(signature).toEqual(sign(message, pair.secretKey));
    expect(verify(signature, message, pair.publicKey)).toBe(true);
    expect(signer.publicKey).toEqual(pair.publicKey);
  });

  it('nodeVerify accepts exactly what @noble/curves accepts', async () => {
    const pair = generateKeyPair();
    const message = utf8('header.payload');
    const signature = await nodeSigner(pair).sign(message);
    expect(nodeVerify(signature, message, pair.publicKey)).toBe(true);
    const flipped = signature.slice();
    flipped[10] = (flipped[10] ?? 0) ^ 1;
    expect(nodeVerify(flipped, message, pair.publicKey)).toBe(false);
    expect(verify(flipped, message, pair.publicKey)).toBe(false);
    expect(nodeVerify(signature, utf8('header.other'), pair.publicKey)).toBe(false);
    expect(nodeVerify(signature, message, generateKeyPair().publicKey)).toBe(false);
    expect(nodeVerify(signature.slice(0, 63), message, pair.publicKey)).toBe(false);
    expect(nodeVerify(signature, message, new Uint8Array(32))).toBe(false);
  });
});
