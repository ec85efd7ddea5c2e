import { createSigner, generateKeyPair, verify } from '../index.js';
import { describe, expect, it } from 'vitest';
import { nodeSigner, nodeVerify } from './ed25519.js';

describe('Ed25519 over node:crypto', () => {
  it('signs the same bytes as @peerfetch/crypto and verifies what it verifies', async () => {
    const pair = generateKeyPair();
    const message = new TextEncoder().encode('transcript');
    const signature = await nodeSigner(pair).sign(message);
    expect(signature).toEqual(await createSigner(pair).sign(message));
    expect(verify(signature, message, pair.publicKey)).toBe(true);
    expect(nodeVerify(signature, message, pair.publicKey)).toBe(true);
    expect(nodeSigner(pair).publicKey).toEqual(pair.publicKey);
  });

  it('refuses a changed message, signature or key, and malformed input', async () => {
    const pair = generateKeyPair();
    const message = new TextEncoder().encode('grant');
    const signature = await nodeSigner(pair).sign(message);
    const flipped = (b: Uint8Array, i: number) => b.map((x, j) => (j === i ? x ^ 1 : x));
    expect(nodeVerify(signature, flipped(message, 0), pair.publicKey)).toBe(false);
    expect(nodeVerify(flipped(signature, 5), message, pair.publicKey)).toBe(false);
    expect(nodeVerify(flipped(signature, 40), message, pair.publicKey)).toBe(false);
    expect(nodeVerify(signature, message, generateKeyPair().publicKey)).toBe(false);
    expect(nodeVerify(signature.slice(0, 63), message, pair.publicKey)).toBe(false);
    expect(nodeVerify(signature, message, pair.publicKey.slice(0, 31))).toBe(false);
    expect(nodeVerify(signature, message, new Uint8Array(32).fill(0xff))).toBe(false);
    // a non-canonical S (S + L) is refused, as RFC 8032 and @peerfetch/crypto refuse it
    const L = 2n ** 252n + 27742317777372353535851937790883648493n;
    let s = 0n;
    for (let i = 31; i >= 0; i--) s = (s << 8n) | BigInt(signature[32 + i]!);
    const big = signature.slice();
    let v = s + L;
    for (let i = 0; i < 32; i++, v >>= 8n) big[32 + i] = Number(v & 0xffn);
    expect(verify(big, message, pair.publicKey)).toBe(false);
    expect(nodeVerify(big, message, pair.publicKey)).toBe(false);
  });
});
