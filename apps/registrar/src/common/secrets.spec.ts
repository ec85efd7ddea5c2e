import { describe, expect, it } from 'vitest';
import { normalizeClaimCode, randomClaimCode, randomSecret, sha256Hex } from './secrets.js';

describe('secrets', () => {
  it('claim codes are 4x5 symbols without look-alikes and normalize case and dashes', () => {
    const code = randomClaimCode();
    expect(code).toMatch(/^[A-HJ-NP-Z2-9]{5}(-[A-HJ-NP-Z2-9]{5}){3}$/);
    expect(normalizeClaimCode(code.toLowerCase())).toBe(code.replaceAll('-', ''));
    expect(new Set(Array.from({ length: 50 }, randomClaimCode)).size).toBe(50);
  });

  it('random secrets are distinct and hashes are stable hex', () => {
    expect(randomSecret()).not.toBe(randomSecret());
    expect(randomSecret()).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(sha256Hex('abc')).toBe(
      'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad',
    );
  });
});
