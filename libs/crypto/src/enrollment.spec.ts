import { describe, expect, it } from 'vitest';
import { CryptoError } from './errors.js';
import {
  createEnrollmentNonce,
  createEnrollmentProof,
  verifyEnrollmentProof,
} from './enrollment.js';
import { createSigner, exportPublicJwk, generateKeyPair } from './keys.js';

function code(error: unknown): string | undefined {
  return error instanceof CryptoError ? error.code : undefined;
}

describe('enrollment proof', () => {
  const device = generateKeyPair();
  const nonce = createEnrollmentNonce();

  it('round-trips and returns the device key', async () => {
    const { publicKey, proof } = await createEnrollmentProof({
      code: 'ABCD-1234',
      nonce,
      signer: createSigner(device),
    });
    expect(publicKey).toEqual(exportPublicJwk(device.publicKey));
    expect(verifyEnrollmentProof({ code: 'ABCD-1234', nonce, publicKey, proof })).toEqual(
      device.publicKey,
    );
  });

  it('a stolen code without the key is useless: proof with another key for the claimed key fails', async () => {
    const thief = generateKeyPair();
    const { proof } = await createEnrollmentProof({
      code: 'C',
      nonce,
      signer: createSigner(thief),
    });
    expect(() =>
      verifyEnrollmentProof({
        code: 'C',
        nonce,
        publicKey: exportPublicJwk(device.publicKey),
        proof,
      }),
    ).toThrow(expect.objectContaining({ code: 'BAD_PROOF' }));
  });

  it('a proof is bound to its nonce (replay under a new challenge fails) and its code', async () => {
    const { publicKey, proof } = await createEnrollmentProof({
      code: 'C',
      nonce,
      signer: createSigner(device),
    });
    const fresh = createEnrollmentNonce();
    let error: unknown;
    try {
      verifyEnrollmentProof({ code: 'C', nonce: fresh, publicKey, proof });
    } catch (e) {
      error = e;
    }
    expect(code(error)).toBe('BAD_PROOF');
    expect(() => verifyEnrollmentProof({ code: 'D', nonce, publicKey, proof })).toThrow(
      expect.objectContaining({ code: 'BAD_PROOF' }),
    );
  });

  it('refuses malformed input with MALFORMED or BAD_KEY', () => {
    const publicKey = exportPublicJwk(device.publicKey);
    expect(() => verifyEnrollmentProof({ code: 'C', nonce, publicKey, proof: 'zz' })).toThrow(
      expect.objectContaining({ code: 'MALFORMED' }),
    );
    expect(() =>
      verifyEnrollmentProof({ code: 'C', nonce: 'short', publicKey, proof: 'A'.repeat(86) }),
    ).toThrow(expect.objectContaining({ code: 'MALFORMED' }));
    expect(() =>
      verifyEnrollmentProof({ code: '', nonce, publicKey, proof: 'A'.repeat(86) }),
    ).toThrow(expect.objectContaining({ code: 'MALFORMED' }));
    expect(() =>
      verifyEnrollmentProof({ code: 'C', nonce, publicKey: { kty: 'RSA' }, proof: 'A'.repeat(86) }),
    ).toThrow(expect.objectContaining({ code: 'BAD_KEY' }));
  });
});
