// The device identity in the data dir, written at enrollment and read at every start.
//
//   <dataDir>/                 0700
//     device-key.json          0600  private Ed25519 JWK ({kty,crv,x,d})
//     identity.json            0600  device id, org id, public key, pinned registrar key,
//                                    MQTT credentials, registrar URL, enrolled-at
//
// Both are written atomically (temp + fsync + rename) and refused at load if group/others
// can access them. The identity file holds the MQTT password, hence 0600 too.
import { join } from 'node:path';
import {
  type Ed25519KeyPair,
  importPrivateJwk,
  importPublicJwk,
  keyFingerprint,
} from '@peerfetch/crypto';
import { z } from 'zod';
import { ensurePrivateDir, readPrivateFile, writeFileAtomic } from './fsutil.js';

export const IDENTITY_FILE = 'identity.json';
export const DEVICE_KEY_FILE = 'device-key.json';

const b64url = z.string().regex(/^[A-Za-z0-9_-]+$/, 'must be base64url');

export const publicJwkSchema = z.object({
  kty: z.literal('OKP'),
  crv: z.literal('Ed25519'),
  x: b64url.length(43),
  kid: z.string().optional(),
});
export const privateJwkSchema = publicJwkSchema.extend({ d: b64url.length(43) });

export type PublicJwk = z.infer<typeof publicJwkSchema>;
export type PrivateJwk = z.infer<typeof privateJwkSchema>;

export const mqttCredentialsSchema = z.object({
  url: z.string().min(1),
  username: z.string().min(1),
  password: z.string().min(1),
});
export type MqttCredentials = z.infer<typeof mqttCredentialsSchema>;

const identityFileSchema = z
  .object({
    version: z.literal(1),
    deviceId: z.uuid(),
    orgId: z.string().min(1),
    publicKey: publicJwkSchema,
    registrarKey: publicJwkSchema,
    registrarUrl: z.string().url(),
    mqtt: mqttCredentialsSchema,
    name: z.string().optional(),
    enrolledAt: z.number().int(),
  })
  .strict();

export interface DeviceIdentity {
  deviceId: string;
  orgId: string;
  publicKey: PublicJwk;
  privateKey: PrivateJwk;
  /** The registrar's grant-signing key, pinned at enrollment. */
  registrarKey: PublicJwk;
  registrarUrl: string;
  mqtt: MqttCredentials;
  name?: string | undefined;
  enrolledAt: number;
}

export class IdentityError extends Error {
  override readonly name = 'IdentityError';
  constructor(
    readonly code: 'IDENTITY_CORRUPT' | 'IDENTITY_MISMATCH',
    message: string,
  ) {
    super(message);
  }
}

export class IdentityStore {
  constructor(readonly dataDir: string) {}

  get identityPath(): string {
    return join(this.dataDir, IDENTITY_FILE);
  }
  get keyPath(): string {
    return join(this.dataDir, DEVICE_KEY_FILE);
  }

  /** Writes the private key first, then the identity (whose presence marks "enrolled"). */
  async save(identity: DeviceIdentity): Promise<void> {
    const privateKey = privateJwkSchema.parse(identity.privateKey);
    if (privateKey.x !== identity.publicKey.x) {
      throw new IdentityError('IDENTITY_MISMATCH', 'private key does not match public key');
    }
    const file = identityFileSchema.parse({
      version: 1,
      deviceId: identity.deviceId,
      orgId: identity.orgId,
      publicKey: identity.publicKey,
      registrarKey: identity.registrarKey,
      registrarUrl: identity.registrarUrl,
      mqtt: identity.mqtt,
      ...(identity.name !== undefined ? { name: identity.name } : {}),
      enrolledAt: identity.enrolledAt,
    });
    await ensurePrivateDir(this.dataDir);
    await writeFileAtomic(this.keyPath, `${JSON.stringify(privateKey)}\n`);
    await writeFileAtomic(this.identityPath, `${JSON.stringify(file, null, 2)}\n`);
  }

  /** Undefined when not enrolled; throws on insecure modes, corruption or mismatch. */
  async load(): Promise<DeviceIdentity | undefined> {
    const identityText = await readPrivateFile(this.identityPath);
    if (identityText === undefined) return undefined;
    const keyText = await readPrivateFile(this.keyPath);
    if (keyText === undefined) {
      throw new IdentityError('IDENTITY_CORRUPT', `${this.keyPath} is missing`);
    }
    const identity = parseJson(identityFileSchema, identityText, this.identityPath);
    const privateKey = parseJson(privateJwkSchema, keyText, this.keyPath);
    try {
      importPrivateJwk(privateKey); // d must derive x
      importPublicJwk(identity.registrarKey);
    } catch {
      throw new IdentityError('IDENTITY_CORRUPT', `${this.dataDir} holds an invalid Ed25519 key`);
    }
    if (privateKey.x !== identity.publicKey.x) {
      throw new IdentityError(
        'IDENTITY_MISMATCH',
        `${this.keyPath} does not belong to the identity in ${this.identityPath}`,
      );
    }
    const { version: _v, ...rest } = identity;
    return { ...rest, privateKey };
  }
}

function parseJson<T>(schema: z.ZodType<T>, text: string, path: string): T {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    throw new IdentityError('IDENTITY_CORRUPT', `${path} is not valid JSON`);
  }
  const result = schema.safeParse(data);
  if (!result.success) {
    const keys = result.error.issues.map((i) => i.path.join('.') || '(root)').join(', ');
    throw new IdentityError('IDENTITY_CORRUPT', `${path} is invalid (${keys})`);
  }
  return result.data;
}

/** The device key pair (for signing in the channel handshake). */
export function deviceKeyPair(identity: DeviceIdentity): Ed25519KeyPair {
  return importPrivateJwk(identity.privateKey);
}

/** Human-comparable fingerprints of the device key and the pinned registrar key. */
export function identityFingerprints(identity: DeviceIdentity): {
  device: string;
  registrar: string;
} {
  return {
    device: keyFingerprint(importPublicJwk(identity.publicKey)).display,
    registrar: keyFingerprint(importPublicJwk(identity.registrarKey)).display,
  };
}
