import { generateKeyPair, sign, utf8, verify } from '@peerfetch/crypto';
import { describe, expect, it } from 'vitest';
import { nodeSigner } from './registrar-key.js';

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
});
