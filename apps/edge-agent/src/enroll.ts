// Enrollment (HTTP contract with the registrar):
//   POST /api/enroll/challenge            → { nonce, expiresAt }
//   POST /api/enroll { code, nonce, publicKey, proof, agentVersion, name? }
//                                         → { deviceId, orgId, registrarKey, mqtt: { url, username, password } }
// The key pair is generated here and never leaves the device; the proof of possession is
// `createEnrollmentProof` from @peerfetch/crypto (signs code + nonce + public key).
// Plain http is refused unless the registrar is on loopback or `allowInsecure` is set: on
// an open network an eavesdropper could redeem the claim code with its own key first.
import {
  createEnrollmentProof,
  createSigner,
  exportPrivateJwk,
  exportPublicJwk,
  generateKeyPair,
  importPublicJwk,
} from '@peerfetch/crypto';
import { z } from 'zod';
import { type DeviceIdentity, IdentityStore, publicJwkSchema } from './identity.js';

export class EnrollError extends Error {
  override readonly name = 'EnrollError';
  constructor(
    readonly code:
      | 'ALREADY_ENROLLED'
      | 'INSECURE_REGISTRAR'
      | 'REGISTRAR_UNREACHABLE'
      | 'REGISTRAR_REFUSED'
      | 'BAD_REGISTRAR_RESPONSE',
    message: string,
    readonly status?: number,
  ) {
    super(message);
  }
}

const challengeSchema = z.object({ nonce: z.string().min(16).max(256), expiresAt: z.number() });
const enrollResponseSchema = z.object({
  deviceId: z.uuid(),
  orgId: z.string().min(1).max(128),
  registrarKey: publicJwkSchema.passthrough(),
  mqtt: z.object({
    url: z
      .string()
      .refine((u) => /^(mqtts?|wss?):\/\/[^/]/.test(u), 'must be an mqtt(s)/ws(s) URL'),
    username: z.string().min(1).max(256),
    password: z.string().min(1).max(1024),
  }),
});

export interface EnrollOptions {
  registrarUrl: string;
  code: string;
  dataDir: string;
  agentVersion: string;
  name?: string | undefined;
  allowInsecure?: boolean;
  /** Replace an existing identity (default: refuse). */
  force?: boolean;
  fetch?: typeof fetch;
  timeoutMs?: number;
  now?: () => number;
}

const LOOPBACK = new Set(['127.0.0.1', '[::1]', 'localhost']);

function checkRegistrarUrl(raw: string, allowInsecure: boolean): string {
  const url = new URL(raw);
  if (url.protocol === 'https:') return url.origin + url.pathname.replace(/\/+$/, '');
  if (url.protocol === 'http:' && (allowInsecure || LOOPBACK.has(url.hostname))) {
    return url.origin + url.pathname.replace(/\/+$/, '');
  }
  throw new EnrollError(
    'INSECURE_REGISTRAR',
    `refusing to send a claim code to ${url.origin} over plain http (use https, or allow it explicitly)`,
  );
}

async function post(
  doFetch: typeof fetch,
  url: string,
  body: unknown,
  timeoutMs: number,
): Promise<unknown> {
  let res: Response;
  try {
    res = await doFetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify(body),
      redirect: 'error',
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (err) {
    throw new EnrollError(
      'REGISTRAR_UNREACHABLE',
      `cannot reach ${url}: ${(err as Error).message}`,
    );
  }
  const text = await res.text();
  let data: unknown;
  try {
    data = text === '' ? undefined : JSON.parse(text);
  } catch {
    data = undefined;
  }
  if (!res.ok) {
    const err = (data as { error?: { code?: unknown; message?: unknown }; message?: unknown })
      ?.error;
    const detail =
      typeof err?.code === 'string'
        ? `${err.code}${typeof err.message === 'string' ? `: ${err.message}` : ''}`
        : `HTTP ${res.status}`;
    throw new EnrollError(
      'REGISTRAR_REFUSED',
      `registrar refused enrollment (${detail})`,
      res.status,
    );
  }
  return data;
}

export async function enroll(options: EnrollOptions): Promise<DeviceIdentity> {
  const store = new IdentityStore(options.dataDir);
  if (!options.force && (await store.load()) !== undefined) {
    throw new EnrollError('ALREADY_ENROLLED', `already enrolled (identity in ${options.dataDir})`);
  }
  const base = checkRegistrarUrl(options.registrarUrl, options.allowInsecure ?? false);
  const doFetch = options.fetch ?? fetch;
  const timeoutMs = options.timeoutMs ?? 15_000;

  const challenge = challengeSchema.safeParse(
    await post(doFetch, `${base}/api/enroll/challenge`, {}, timeoutMs),
  );
  if (!challenge.success) {
    throw new EnrollError('BAD_REGISTRAR_RESPONSE', 'malformed challenge from the registrar');
  }
  const keyPair = generateKeyPair();
  const { publicKey, proof } = await createEnrollmentProof({
    code: options.code,
    nonce: challenge.data.nonce,
    signer: createSigner(keyPair),
  });
  const raw = await post(
    doFetch,
    `${base}/api/enroll`,
    {
      code: options.code,
      nonce: challenge.data.nonce,
      publicKey,
      proof,
      agentVersion: options.agentVersion,
      ...(options.name !== undefined ? { name: options.name } : {}),
    },
    timeoutMs,
  );
  const parsed = enrollResponseSchema.safeParse(raw);
  if (!parsed.success) {
    const keys = parsed.error.issues.map((i) => i.path.join('.') || '(root)').join(', ');
    throw new EnrollError('BAD_REGISTRAR_RESPONSE', `malformed enrollment response (${keys})`);
  }
  let registrarKey;
  try {
    registrarKey = exportPublicJwk(importPublicJwk(parsed.data.registrarKey));
  } catch {
    throw new EnrollError('BAD_REGISTRAR_RESPONSE', 'registrarKey is not a valid Ed25519 key');
  }
  const identity: DeviceIdentity = {
    deviceId: parsed.data.deviceId,
    orgId: parsed.data.orgId,
    publicKey: exportPublicJwk(keyPair.publicKey),
    privateKey: exportPrivateJwk(keyPair),
    registrarKey,
    registrarUrl: base,
    mqtt: parsed.data.mqtt,
    name: options.name,
    enrolledAt: (options.now ?? Date.now)(),
  };
  await store.save(identity);
  return identity;
}
