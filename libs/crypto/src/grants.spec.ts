import { CompactSign } from 'jose';
import { describe, expect, it } from 'vitest';
import { utf8 } from './encoding.js';
import { CryptoError } from './errors.js';
import {
  type SignGrantInput,
  type VerifyGrantOptions,
  assertGrantBoundTo,
  decodeGrantUnverified,
  isGrantExpired,
  signGrant,
  verifyGrant as verifyGrantWithJose,
} from './grants.js';
import {
  createSigner,
  exportPrivateJwk,
  exportPublicJwk,
  generateKeyPair,
  jwkThumbprint,
  verify,
} from './keys.js';

const registrar = generateKeyPair();
const session = generateKeyPair();
const deviceId = 'dev-1';
const now = Date.UTC(2026, 10, 25, 12, 0, 0);

function input(over: Partial<SignGrantInput> = {}): SignGrantInput {
  return {
    issuer: 'reg',
    userId: 'u1',
    deviceId,
    orgId: 'o1',
    role: 'viewer',
    routes: ['/clips'],
    sessionKey: session.publicKey,
    now,
    ...over,
  };
}

async function codeOf(promise: Promise<unknown>): Promise<string | undefined> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(CryptoError);
    return (error as CryptoError).code;
  }
  return undefined;
}

// Every case through both signature checks: JOSE (WebCrypto, the default) and an injected
// RFC 8032 verification (what a server passes as `verifySignature`).
describe.each([
  ['JOSE', {}],
  ['verifySignature', { verifySignature: verify }],
] as const)('grants, verified by %s', (_path, extra: Partial<VerifyGrantOptions>) => {
  const verifyGrant = (jws: unknown, options: VerifyGrantOptions) =>
    verifyGrantWithJose(jws, { ...options, ...extra });

  it('sign → verify round trip with all claims', async () => {
    const jws = await signGrant(input({ sessionId: 's1' }), registrar);
    const grant = await verifyGrant(jws, {
      registrarKey: exportPublicJwk(registrar.publicKey),
      deviceId,
      issuer: 'reg',
      now: now + 1000,
    });
    expect(grant).toMatchObject({
      iss: 'reg',
      sub: 'u1',
      aud: deviceId,
      org: 'o1',
      role: 'viewer',
      routes: ['/clips'],
      cnf: { jkt: jwkThumbprint(session.publicKey) },
      sid: 's1',
      iat: now / 1000,
      exp: now / 1000 + 300,
      jws,
    });
    expect(grant.jti).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(decodeGrantUnverified(jws).role).toBe('viewer');
    const header = JSON.parse(atob(jws.split('.')[0] ?? '')) as Record<string, unknown>;
    expect(header).toEqual({
      alg: 'EdDSA',
      typ: 'pf-grant+jwt',
      kid: jwkThumbprint(registrar.publicKey),
    });
    expect(() => assertGrantBoundTo(grant, session.publicKey)).not.toThrow();
    expect(() => assertGrantBoundTo(grant, generateKeyPair().publicKey)).toThrow(
      expect.objectContaining({ code: 'GRANT_KEY_MISMATCH' }),
    );
  });

  it('accepts a private JWK as the signing key and several pinned keys (rotation)', async () => {
    const jws = await signGrant(input(), exportPrivateJwk(registrar));
    const old = generateKeyPair();
    await expect(
      verifyGrant(jws, { registrarKey: [old.publicKey, registrar.publicKey], deviceId, now }),
    ).resolves.toMatchObject({ sub: 'u1' });
  });

  it('a Signer as the signing key makes the same JWS as the key pair', async () => {
    const fromSigner = await signGrant(
      input({ jti: 'j1', sessionId: 's1' }),
      createSigner(registrar),
    );
    expect(fromSigner).toBe(await signGrant(input({ jti: 'j1', sessionId: 's1' }), registrar));
    await expect(
      verifyGrant(fromSigner, { registrarKey: registrar.publicKey, deviceId, now }),
    ).resolves.toMatchObject({ sid: 's1', jti: 'j1' });
    const broken = {
      publicKey: registrar.publicKey,
      sign: () => Promise.resolve(new Uint8Array(8)),
    };
    expect(await codeOf(signGrant(input(), broken))).toBe('BAD_KEY');
  });

  it('verifies again with a cached key, and refuses another key after a success', async () => {
    const jws = await signGrant(input(), registrar);
    const opts = { registrarKey: exportPublicJwk(registrar.publicKey), deviceId, now };
    await expect(verifyGrant(jws, opts)).resolves.toMatchObject({ sub: 'u1' });
    await expect(verifyGrant(jws, opts)).resolves.toMatchObject({ sub: 'u1' });
    const other = { registrarKey: generateKeyPair().publicKey, deviceId, now };
    expect(await codeOf(verifyGrant(jws, other))).toBe('GRANT_BAD_SIGNATURE');
  });

  it('expired, not yet valid, and too long-lived → GRANT_EXPIRED', async () => {
    const jws = await signGrant(input({ ttlSeconds: 60 }), registrar);
    const opts = { registrarKey: registrar.publicKey, deviceId };
    expect(await codeOf(verifyGrant(jws, { ...opts, now: now + 60_000 + 30_000 }))).toBe(
      'GRANT_EXPIRED',
    );
    expect(await codeOf(verifyGrant(jws, { ...opts, now: now + 60_000 + 29_000 }))).toBeUndefined();
    expect(await codeOf(verifyGrant(jws, { ...opts, now: now - 31_000 }))).toBe('GRANT_EXPIRED');
    const long = await signGrant(input({ ttlSeconds: 900 }), registrar);
    expect(await codeOf(verifyGrant(long, { ...opts, now, maxLifetimeSeconds: 600 }))).toBe(
      'GRANT_EXPIRED',
    );
    await expect(signGrant(input({ ttlSeconds: 901 }), registrar)).rejects.toThrow(CryptoError);
  });

  it('other device → GRANT_WRONG_DEVICE; other key or issuer → GRANT_BAD_SIGNATURE', async () => {
    const jws = await signGrant(input(), registrar);
    expect(
      await codeOf(verifyGrant(jws, { registrarKey: registrar.publicKey, deviceId: 'dev-2', now })),
    ).toBe('GRANT_WRONG_DEVICE');
    expect(
      await codeOf(verifyGrant(jws, { registrarKey: generateKeyPair().publicKey, deviceId, now })),
    ).toBe('GRANT_BAD_SIGNATURE');
    expect(
      await codeOf(
        verifyGrant(jws, { registrarKey: registrar.publicKey, deviceId, issuer: 'other', now }),
      ),
    ).toBe('GRANT_BAD_SIGNATURE');
  });

  it('a tampered payload does not verify', async () => {
    const jws = await signGrant(input(), registrar);
    const [h, p, s] = jws.split('.');
    const claims = JSON.parse(atob((p ?? '').replace(/-/g, '+').replace(/_/g, '/'))) as Record<
      string,
      unknown
    >;
    claims['role'] = 'admin';
    const forged = `${h}.${btoa(JSON.stringify(claims)).replace(/=+$/, '').replace(/\+/g, '-').replace(/\//g, '_')}.${s}`;
    expect(
      await codeOf(verifyGrant(forged, { registrarKey: registrar.publicKey, deviceId, now })),
    ).toBe('GRANT_BAD_SIGNATURE');
  });

  it('refuses alg none, a wrong typ, and garbage', async () => {
    const opts = { registrarKey: registrar.publicKey, deviceId, now };
    const jws = await signGrant(input(), registrar);
    const payload = jws.split('.')[1];
    const none = `${btoa(JSON.stringify({ alg: 'none', typ: 'pf-grant+jwt' })).replace(/=+$/, '')}.${payload}.`;
    expect(await codeOf(verifyGrant(none, opts))).toBe('MALFORMED');
    const wrongTyp = await new CompactSign(utf8(JSON.stringify({ aud: deviceId })))
      .setProtectedHeader({ alg: 'EdDSA', typ: 'JWT' })
      .sign(exportPrivateJwk(registrar));
    expect(await codeOf(verifyGrant(wrongTyp, opts))).toBe('MALFORMED');
    expect(await codeOf(verifyGrant('a.b', opts))).toBe('MALFORMED');
    expect(await codeOf(verifyGrant(42, opts))).toBe('MALFORMED');
    expect(await codeOf(verifyGrant('x'.repeat(5000), opts))).toBe('MALFORMED');
  });

  it('well-signed but invalid claims → GRANT_INVALID', async () => {
    const sign = (claims: object) =>
      new CompactSign(utf8(JSON.stringify(claims)))
        .setProtectedHeader({ alg: 'EdDSA', typ: 'pf-grant+jwt' })
        .sign(exportPrivateJwk(registrar));
    const iat = now / 1000;
    const good = {
      iss: 'reg',
      sub: 'u',
      aud: deviceId,
      org: 'o',
      role: 'viewer',
      routes: ['/'],
      cnf: { jkt: jwkThumbprint(session.publicKey) },
      iat,
      exp: iat + 60,
      jti: 'j',
    };
    const opts = { registrarKey: registrar.publicKey, deviceId, now };
    expect(await codeOf(verifyGrant(await sign(good), opts))).toBeUndefined();
    for (const bad of [
      { role: 'root' },
      { routes: ['clips'] },
      { routes: 'x' },
      { cnf: {} },
      { sub: '' },
      { jti: 7 },
      { iat: 'x' },
    ]) {
      expect(await codeOf(verifyGrant(await sign({ ...good, ...bad }), opts))).toMatch(
        /^GRANT_INVALID$/,
      );
    }
  });
});

describe('isGrantExpired', () => {
  it('compares exp (seconds) with now (ms)', () => {
    expect(isGrantExpired({ exp: 100 }, 99_999)).toBe(false);
    expect(isGrantExpired({ exp: 100 }, 100_000)).toBe(true);
  });
});
