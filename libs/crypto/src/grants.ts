// Session grants: short-lived JWS (EdDSA) signed by the registrar, verified by the device
// with the registrar key it pinned at enrollment, bound (RFC 7800 `cnf.jkt`) to the
// console's ephemeral session key so that a stolen grant is useless without that key.
import { CompactSign, compactVerify, decodeJwt, importJWK } from 'jose';
import { BoundedMap } from './bounded-map.js';
import { CryptoError } from './errors.js';
import { fromBase64url, fromUtf8, toBase64url, utf8 } from './encoding.js';
import {
  type Ed25519KeyPair,
  type Ed25519PrivateJwk,
  type Ed25519PublicJwk,
  exportPrivateJwk,
  assertPublicKey,
  exportPublicJwk,
  importPrivateJwk,
  importPublicJwk,
  jwkThumbprint,
  randomBytes,
  SIGNATURE_LENGTH,
  type Signer,
} from './keys.js';
import { type Role, isRole } from './roles.js';

/** JOSE `typ` of a grant (explicit typing, RFC 8725 §3.11). */
export const GRANT_TYPE = 'pf-grant+jwt';
/** Default and maximum grant lifetimes, seconds. */
export const DEFAULT_GRANT_TTL_S = 300;
export const MAX_GRANT_TTL_S = 900;
/** Largest grant accepted, bytes. */
export const MAX_GRANT_LENGTH = 4096;
const MAX_ROUTES = 64;
const MAX_STRING = 256;

/** The claims of a grant, as signed. */
export interface GrantClaims {
  /** Registrar id. */
  iss: string;
  /** User id. */
  sub: string;
  /** Device id (the only audience). */
  aud: string;
  /** Organisation id. */
  org: string;
  role: Role;
  /** Allowed path prefixes (see `isRouteAllowed`). Ignored for admin. */
  routes: string[];
  /** Proof-of-possession: RFC 7638 thumbprint of the console's session public key. */
  cnf: { jkt: string };
  /** Signaling session id, when the registrar ties the grant to one (audit). */
  sid?: string;
  /** Issued at / expires, seconds since the epoch. */
  iat: number;
  exp: number;
  /** Unique grant id (base64url, 16 random bytes). */
  jti: string;
}

/** A verified grant plus the raw JWS (for the transcript hash). */
export interface VerifiedGrant extends GrantClaims {
  jws: string;
}

export interface SignGrantInput {
  issuer: string;
  userId: string;
  deviceId: string;
  orgId: string;
  role: Role;
  /** Default `['/']`. */
  routes?: string[];
  /** The console's session public key: raw 32 bytes or a public JWK. */
  sessionKey: Uint8Array | Ed25519PublicJwk;
  sessionId?: string;
  /** Lifetime in seconds, default 300, at most 900. */
  ttlSeconds?: number;
  /** Clock, ms since the epoch (tests). */
  now?: number;
  jti?: string;
}

/**
 * The registrar's signing key: a key pair, a private JWK, or a `Signer` (e.g. over
 * `node:crypto`, where signing is far cheaper than in JS; it must return the RFC 8032
 * signature of the message).
 */
type RegistrarPrivateKey = Ed25519KeyPair | Ed25519PrivateJwk | Signer;
type RegistrarPublicKey = Uint8Array | Ed25519PublicJwk;

function isSigner(key: RegistrarPrivateKey): key is Signer {
  return typeof (key as Partial<Signer>).sign === 'function';
}

function registrarPair(key: RegistrarPrivateKey): Ed25519KeyPair {
  return 'secretKey' in key ? key : importPrivateJwk(key);
}

function publicRaw(key: RegistrarPublicKey): Uint8Array {
  if (!(key instanceof Uint8Array)) return importPublicJwk(key);
  assertPublicKey(key);
  return key;
}

function checkString(value: unknown, name: string, code: 'MALFORMED' | 'GRANT_INVALID'): string {
  if (typeof value !== 'string' || value.length === 0 || value.length > MAX_STRING) {
    throw new CryptoError(code, `grant ${name} must be a non-empty string`);
  }
  return value;
}

function checkRoutes(value: unknown, code: 'MALFORMED' | 'GRANT_INVALID'): string[] {
  if (
    !Array.isArray(value) ||
    value.length > MAX_ROUTES ||
    !value.every((r) => typeof r === 'string' && r.startsWith('/') && r.length <= MAX_STRING)
  ) {
    throw new CryptoError(code, 'grant routes must be an array of paths starting with /');
  }
  return value as string[];
}

/** Registrar side: signs a grant. Returns the JWS compact serialization. */
export async function signGrant(
  input: SignGrantInput,
  registrarKey: RegistrarPrivateKey,
): Promise<string> {
  const ttl = input.ttlSeconds ?? DEFAULT_GRANT_TTL_S;
  if (!Number.isInteger(ttl) || ttl <= 0 || ttl > MAX_GRANT_TTL_S) {
    throw new CryptoError('MALFORMED', `grant ttl must be 1..${MAX_GRANT_TTL_S} s`);
  }
  if (!isRole(input.role)) throw new CryptoError('MALFORMED', 'unknown role');
  const sessionKey =
    input.sessionKey instanceof Uint8Array ? input.sessionKey : importPublicJwk(input.sessionKey);
  const iat = Math.floor((input.now ?? Date.now()) / 1000);
  const claims: GrantClaims = {
    iss: checkString(input.issuer, 'iss', 'MALFORMED'),
    sub: checkString(input.userId, 'sub', 'MALFORMED'),
    aud: checkString(input.deviceId, 'aud', 'MALFORMED'),
    org: checkString(input.orgId, 'org', 'MALFORMED'),
    role: input.role,
    routes: checkRoutes(input.routes ?? ['/'], 'MALFORMED'),
    cnf: { jkt: jwkThumbprint(sessionKey) },
    ...(input.sessionId !== undefined
      ? { sid: checkString(input.sessionId, 'sid', 'MALFORMED') }
      : {}),
    iat,
    exp: iat + ttl,
    jti: input.jti ?? toBase64url(randomBytes(16)),
  };
  if (isSigner(registrarKey)) return signCompact(claims, registrarKey);
  const pair = registrarPair(registrarKey);
  const jwk = exportPrivateJwk(pair);
  const kid = jwkThumbprint(pair.publicKey);
  return new CompactSign(utf8(JSON.stringify(claims)))
    .setProtectedHeader({ alg: 'EdDSA', typ: GRANT_TYPE, kid })
    .sign(jwk);
}

/** JWS compact serialization (RFC 7515 §7.1) signed by `signer`: what CompactSign makes. */
async function signCompact(claims: GrantClaims, signer: Signer): Promise<string> {
  const header = { alg: 'EdDSA', typ: GRANT_TYPE, kid: jwkThumbprint(signer.publicKey) };
  const signingInput = `${toBase64url(utf8(JSON.stringify(header)))}.${toBase64url(
    utf8(JSON.stringify(claims)),
  )}`;
  const signature = await signer.sign(utf8(signingInput));
  if (!(signature instanceof Uint8Array) || signature.length !== SIGNATURE_LENGTH) {
    throw new CryptoError('BAD_KEY', 'the grant signer returned no Ed25519 signature');
  }
  return `${signingInput}.${toBase64url(signature)}`;
}

/**
 * Pinned registrar keys imported for verification, by `x` (a device or registrar verifies
 * with the same one or two keys every time; importing costs more than verifying).
 */
const verifyKeys = new BoundedMap<string, Promise<Awaited<ReturnType<typeof importJWK>>>>(16);

function verifyKeyOf(raw: Uint8Array): Promise<Awaited<ReturnType<typeof importJWK>>> {
  const jwk = exportPublicJwk(raw);
  const cached = verifyKeys.get(jwk.x);
  if (cached) return cached;
  const imported = importJWK(jwk, 'EdDSA');
  imported.catch(() => verifyKeys.delete(jwk.x));
  verifyKeys.set(jwk.x, imported);
  return imported;
}

export interface VerifyGrantOptions {
  /** The registrar key(s) pinned at enrollment (several during a rotation). */
  registrarKey: RegistrarPublicKey | readonly RegistrarPublicKey[];
  /** This device's id: the grant's `aud` must equal it. */
  deviceId: string;
  /** When given, the grant's `iss` must equal it. */
  issuer?: string;
  /** Clock, ms since the epoch. Default `Date.now()`. */
  now?: number;
  /** Allowed clock skew, seconds. Default 30. */
  clockToleranceSeconds?: number;
  /** Longest lifetime (exp − iat) accepted, seconds. Default 900. */
  maxLifetimeSeconds?: number;
  /**
   * An RFC 8032 Ed25519 verification (strict, false for any bad input), e.g. over
   * `node:crypto` on a server that verifies a grant per request. Default: WebCrypto
   * through JOSE.
   */
  verifySignature?: (signature: Uint8Array, message: Uint8Array, publicKey: Uint8Array) => boolean;
}

/**
 * Device side: verifies a grant. Throws `CryptoError` with
 * MALFORMED (not a grant), GRANT_BAD_SIGNATURE (not signed by a pinned registrar key, or
 * another issuer), GRANT_EXPIRED (expired, not yet valid, or too long-lived),
 * GRANT_WRONG_DEVICE (another audience) or GRANT_INVALID (bad claims).
 * The session-key binding is checked by the handshake (`assertGrantBoundTo`).
 */
export async function verifyGrant(
  jws: unknown,
  options: VerifyGrantOptions,
): Promise<VerifiedGrant> {
  if (typeof jws !== 'string' || jws.length > MAX_GRANT_LENGTH || jws.split('.').length !== 3) {
    throw new CryptoError('MALFORMED', 'grant is not a JWS compact serialization');
  }
  const keys = (
    Array.isArray(options.registrarKey) ? options.registrarKey : [options.registrarKey]
  ) as RegistrarPublicKey[];
  const payload = options.verifySignature
    ? verifyCompact(jws, keys, options.verifySignature)
    : await verifyWithJose(jws, keys);
  let claims: Record<string, unknown>;
  try {
    const parsed: unknown = JSON.parse(fromUtf8(payload));
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
      throw new Error('not an object');
    claims = parsed as Record<string, unknown>;
  } catch (cause) {
    throw new CryptoError('GRANT_INVALID', 'grant payload is not a JSON object', { cause });
  }
  return checkClaims(claims, jws, options);
}

/** The payload of a grant JWS signed by one of `keys`, verified by JOSE (WebCrypto). */
async function verifyWithJose(jws: string, keys: RegistrarPublicKey[]): Promise<Uint8Array> {
  let lastError: unknown;
  for (const key of keys) {
    const raw = publicRaw(key);
    try {
      const result = await compactVerify(jws, await verifyKeyOf(raw), { algorithms: ['EdDSA'] });
      if (result.protectedHeader.typ !== GRANT_TYPE) {
        throw new CryptoError('MALFORMED', `grant typ must be ${GRANT_TYPE}`);
      }
      return result.payload;
    } catch (error) {
      if (error instanceof CryptoError) throw error;
      lastError = error;
    }
  }
  const name = (lastError as { code?: unknown } | undefined)?.code;
  if (name === 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED') {
    throw new CryptoError('GRANT_BAD_SIGNATURE', 'grant is not signed by the pinned registrar key');
  }
  throw new CryptoError('MALFORMED', 'grant could not be verified', { cause: lastError });
}

/**
 * The payload of an EdDSA JWS compact serialization signed by one of `keys`, checked as
 * `compactVerify` with `algorithms: ['EdDSA']` does (protected header a JSON object, alg
 * EdDSA, no `crit`), plus the grant `typ`; the same error codes as the JOSE path.
 */
function verifyCompact(
  jws: string,
  keys: RegistrarPublicKey[],
  verifySignature: NonNullable<VerifyGrantOptions['verifySignature']>,
): Uint8Array {
  const [h = '', p = '', s = ''] = jws.split('.');
  let header: unknown;
  let payload: Uint8Array;
  let signature: Uint8Array;
  try {
    header = JSON.parse(fromUtf8(fromBase64url(h, undefined, 'JWS header')));
    payload = fromBase64url(p, undefined, 'JWS payload');
    signature = fromBase64url(s, undefined, 'JWS signature');
  } catch (cause) {
    throw new CryptoError('MALFORMED', 'grant could not be verified', { cause });
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) {
    throw new CryptoError('MALFORMED', 'grant could not be verified');
  }
  const fields = header as Record<string, unknown>;
  if (fields['alg'] !== 'EdDSA' || fields['crit'] !== undefined) {
    throw new CryptoError('MALFORMED', 'grant could not be verified');
  }
  const signingInput = utf8(`${h}.${p}`);
  if (!keys.some((key) => verifySignature(signature, signingInput, publicRaw(key)))) {
    throw new CryptoError('GRANT_BAD_SIGNATURE', 'grant is not signed by the pinned registrar key');
  }
  if (fields['typ'] !== GRANT_TYPE) {
    throw new CryptoError('MALFORMED', `grant typ must be ${GRANT_TYPE}`);
  }
  return payload;
}

function checkClaims(
  c: Record<string, unknown>,
  jws: string,
  options: VerifyGrantOptions,
): VerifiedGrant {
  const iss = checkString(c['iss'], 'iss', 'GRANT_INVALID');
  if (options.issuer !== undefined && iss !== options.issuer) {
    throw new CryptoError('GRANT_BAD_SIGNATURE', 'grant was issued by another registrar');
  }
  const aud = checkString(c['aud'], 'aud', 'GRANT_INVALID');
  if (aud !== options.deviceId) {
    throw new CryptoError('GRANT_WRONG_DEVICE', 'grant is for another device');
  }
  const iat = c['iat'];
  const exp = c['exp'];
  if (!Number.isSafeInteger(iat) || !Number.isSafeInteger(exp)) {
    throw new CryptoError('GRANT_INVALID', 'grant iat/exp must be integers');
  }
  const now = (options.now ?? Date.now()) / 1000;
  const tolerance = options.clockToleranceSeconds ?? 30;
  const maxLifetime = options.maxLifetimeSeconds ?? MAX_GRANT_TTL_S;
  if ((exp as number) - (iat as number) > maxLifetime || (exp as number) <= (iat as number)) {
    throw new CryptoError('GRANT_EXPIRED', 'grant lifetime exceeds the maximum');
  }
  if (now >= (exp as number) + tolerance) {
    throw new CryptoError('GRANT_EXPIRED', 'grant has expired');
  }
  if ((iat as number) > now + tolerance) {
    throw new CryptoError('GRANT_EXPIRED', 'grant is not yet valid (issued in the future)');
  }
  const role = c['role'];
  if (!isRole(role)) throw new CryptoError('GRANT_INVALID', 'grant role is unknown');
  const cnf = c['cnf'] as { jkt?: unknown } | undefined;
  if (
    typeof cnf !== 'object' ||
    cnf === null ||
    typeof cnf.jkt !== 'string' ||
    !/^[A-Za-z0-9_-]{43}$/.test(cnf.jkt)
  ) {
    throw new CryptoError('GRANT_INVALID', 'grant cnf.jkt is missing');
  }
  const sid = c['sid'];
  return {
    iss,
    sub: checkString(c['sub'], 'sub', 'GRANT_INVALID'),
    aud,
    org: checkString(c['org'], 'org', 'GRANT_INVALID'),
    role,
    routes: checkRoutes(c['routes'], 'GRANT_INVALID'),
    cnf: { jkt: cnf.jkt },
    ...(sid !== undefined ? { sid: checkString(sid, 'sid', 'GRANT_INVALID') } : {}),
    iat: iat as number,
    exp: exp as number,
    jti: checkString(c['jti'], 'jti', 'GRANT_INVALID'),
    jws,
  };
}

/** Whether a (verified) grant has expired at `now` (ms; default now), without clock tolerance. */
export function isGrantExpired(grant: Pick<GrantClaims, 'exp'>, now = Date.now()): boolean {
  return now >= grant.exp * 1000;
}

/** Throws GRANT_KEY_MISMATCH unless the grant is bound to `sessionKey` (raw 32 bytes). */
export function assertGrantBoundTo(grant: GrantClaims, sessionKey: Uint8Array): void {
  if (grant.cnf.jkt !== jwkThumbprint(sessionKey)) {
    throw new CryptoError('GRANT_KEY_MISMATCH', 'grant is bound to another session key');
  }
}

/**
 * Reads a grant's claims WITHOUT verifying anything (for a console to show the role and
 * expiry it was given). Never use the result for an access decision.
 */
export function decodeGrantUnverified(jws: string): GrantClaims {
  try {
    return decodeJwt(jws) as unknown as GrantClaims;
  } catch (cause) {
    throw new CryptoError('MALFORMED', 'grant is not a JWT', { cause });
  }
}
