import { chmod, mkdtemp, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { generateKeyPair } from '../keys.js';
import { loadOrCreateKeyFile, readKeyFile, writeKeyFile } from './index.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'pf-crypto-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('key files', () => {
  it('writes a 0600 private JWK and reads it back', async () => {
    const path = join(dir, 'device.jwk');
    const pair = generateKeyPair();
    await writeKeyFile(path, pair);
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    const jwk = JSON.parse(await readFile(path, 'utf8')) as Record<string, unknown>;
    expect(jwk).toMatchObject({ kty: 'OKP', crv: 'Ed25519' });
    expect(typeof jwk['d']).toBe('string');
    expect((await readKeyFile(path)).secretKey).toEqual(pair.secretKey);
  });

  it('refuses to overwrite unless asked', async () => {
    const path = join(dir, 'device.jwk');
    await writeKeyFile(path, generateKeyPair());
    await expect(writeKeyFile(path, generateKeyPair())).rejects.toThrow(/already exists/);
    const second = generateKeyPair();
    await writeKeyFile(path, second, { overwrite: true });
    expect((await readKeyFile(path)).publicKey).toEqual(second.publicKey);
  });

  it.each([0o640, 0o604, 0o660, 0o644])('refuses a key file with mode %s', async (mode) => {
    const path = join(dir, 'device.jwk');
    await writeKeyFile(path, generateKeyPair());
    await chmod(path, mode);
    await expect(readKeyFile(path)).rejects.toMatchObject({ code: 'BAD_KEY' });
  });

  it('refuses a symlink and invalid content', async () => {
    const path = join(dir, 'device.jwk');
    await writeKeyFile(path, generateKeyPair());
    await symlink(path, join(dir, 'link.jwk'));
    await expect(readKeyFile(join(dir, 'link.jwk'))).rejects.toMatchObject({ code: 'BAD_KEY' });
    await writeFile(join(dir, 'bad.jwk'), 'not json', { mode: 0o600 });
    await expect(readKeyFile(join(dir, 'bad.jwk'))).rejects.toMatchObject({ code: 'BAD_KEY' });
    await writeFile(join(dir, 'pub.jwk'), JSON.stringify({ kty: 'OKP', crv: 'Ed25519', x: 'AA' }), {
      mode: 0o600,
    });
    await expect(readKeyFile(join(dir, 'pub.jwk'))).rejects.toMatchObject({ code: 'BAD_KEY' });
  });

  it('loadOrCreateKeyFile creates once, then loads the same key', async () => {
    const path = join(dir, 'device.jwk');
    const first = await loadOrCreateKeyFile(path);
    expect(first.created).toBe(true);
    const second = await loadOrCreateKeyFile(path);
    expect(second.created).toBe(false);
    expect(second.keyPair.publicKey).toEqual(first.keyPair.publicKey);
  });
});
