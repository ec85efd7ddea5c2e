import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { chmodSync, mkdtempSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { InsecureFileError } from './fsutil.js';
import { type DeviceIdentity, IdentityError, IdentityStore } from './identity.js';

function jwkPair(): {
  pub: { kty: 'OKP'; crv: 'Ed25519'; x: string };
  priv: { kty: 'OKP'; crv: 'Ed25519'; x: string; d: string };
} {
  const { privateKey } = generateKeyPairSync('ed25519');
  const jwk = privateKey.export({ format: 'jwk' }) as { x: string; d: string };
  return {
    pub: { kty: 'OKP', crv: 'Ed25519', x: jwk.x },
    priv: { kty: 'OKP', crv: 'Ed25519', x: jwk.x, d: jwk.d },
  };
}

function sample(): DeviceIdentity {
  const device = jwkPair();
  return {
    deviceId: randomUUID(),
    orgId: 'org-1',
    publicKey: device.pub,
    privateKey: device.priv,
    registrarKey: jwkPair().pub,
    registrarUrl: 'https://registrar.example',
    mqtt: { url: 'mqtt://127.0.0.1:1883', username: 'u', password: 's3cret' },
    name: 'cam-1',
    enrolledAt: 1_700_000_000_000,
  };
}

function tempDataDir(): string {
  return join(mkdtempSync(join(tmpdir(), 'agent-id-')), 'data');
}

describe('IdentityStore', () => {
  it('returns undefined before enrollment', async () => {
    expect(await new IdentityStore(tempDataDir()).load()).toBeUndefined();
  });

  it('round-trips, with dir 0700, files 0600 and no temp files left', async () => {
    const dir = tempDataDir();
    const store = new IdentityStore(dir);
    const id = sample();
    await store.save(id);
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    expect(statSync(store.keyPath).mode & 0o777).toBe(0o600);
    expect(statSync(store.identityPath).mode & 0o777).toBe(0o600);
    expect(readdirSync(dir).sort()).toEqual(['device-key.json', 'identity.json']);
    expect(await store.load()).toEqual(id);
    // overwrite keeps working (rename over an existing file)
    await store.save({ ...id, orgId: 'org-2' });
    expect((await store.load())?.orgId).toBe('org-2');
  });

  it.each([0o640, 0o604, 0o644, 0o660])('refuses a key file with mode %s', async (mode) => {
    const store = new IdentityStore(tempDataDir());
    await store.save(sample());
    chmodSync(store.keyPath, mode);
    await expect(store.load()).rejects.toBeInstanceOf(InsecureFileError);
  });

  it('refuses a world-readable identity file (it holds the MQTT password)', async () => {
    const store = new IdentityStore(tempDataDir());
    await store.save(sample());
    chmodSync(store.identityPath, 0o644);
    await expect(store.load()).rejects.toBeInstanceOf(InsecureFileError);
  });

  it('detects a key that does not belong to the identity, a missing key, corruption', async () => {
    const store = new IdentityStore(tempDataDir());
    await store.save(sample());
    writeFileSync(store.keyPath, JSON.stringify(jwkPair().priv), { mode: 0o600 });
    await expect(store.load()).rejects.toMatchObject({ code: 'IDENTITY_MISMATCH' });

    writeFileSync(store.identityPath, '{"version":1}', { mode: 0o600 });
    await expect(store.load()).rejects.toBeInstanceOf(IdentityError);
    writeFileSync(store.identityPath, 'nope', { mode: 0o600 });
    await expect(store.load()).rejects.toMatchObject({ code: 'IDENTITY_CORRUPT' });
  });

  it('refuses to save a mismatched key pair', async () => {
    const id = sample();
    await expect(
      new IdentityStore(tempDataDir()).save({ ...id, publicKey: jwkPair().pub }),
    ).rejects.toMatchObject({ code: 'IDENTITY_MISMATCH' });
  });
});
