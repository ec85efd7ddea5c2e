import { mkdtempSync, readdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { importPrivateJwk, verifyEnrollmentProof } from '@peerfetch/crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { enroll } from '../src/enroll.js';
import { IdentityStore } from '../src/identity.js';
import { type FakeRegistrar, startFakeRegistrar } from './support/fake-registrar.js';

let registrar: FakeRegistrar;
const CODE = 'CLAIM-1234-ABCD';
const dataDir = (): string => join(mkdtempSync(join(tmpdir(), 'agent-enroll-')), 'data');

beforeAll(async () => {
  registrar = await startFakeRegistrar({ code: CODE, mqttUrl: 'mqtt://127.0.0.1:1883' });
});
afterAll(() => registrar.close());

describe('enroll (fake registrar; the real-registrar test is pending apps/registrar)', () => {
  it('redeems the code with a proof of possession and stores the identity 0600', async () => {
    const dir = dataDir();
    const identity = await enroll({
      registrarUrl: registrar.url,
      code: CODE,
      dataDir: dir,
      agentVersion: '9.9.9',
      name: 'cam-1',
    });
    const sent = registrar.requests.at(-1)?.body ?? {};
    expect(sent).toMatchObject({ code: CODE, agentVersion: '9.9.9', name: 'cam-1' });
    // the proof verifies for exactly what was sent (independently of the fake's check)
    expect(() =>
      verifyEnrollmentProof({
        code: CODE,
        nonce: String(sent['nonce']),
        publicKey: sent['publicKey'],
        proof: sent['proof'],
      }),
    ).not.toThrow();
    expect(sent['privateKey']).toBeUndefined();
    expect(JSON.stringify(sent)).not.toContain(identity.privateKey.d);

    expect(identity.deviceId).toBe(registrar.enrolled.at(-1)?.deviceId);
    expect(identity.registrarKey).toEqual(registrar.registrarKey);
    expect(identity.mqtt.username).toBe(identity.deviceId);
    expect(importPrivateJwk(identity.privateKey).publicKey).toBeInstanceOf(Uint8Array);

    const loaded = await new IdentityStore(dir).load();
    expect(loaded).toEqual(identity);
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    for (const f of readdirSync(dir)) expect(statSync(join(dir, f)).mode & 0o777).toBe(0o600);
  });

  it('refuses to enroll twice unless forced', async () => {
    const dir = dataDir();
    const first = await enroll({
      registrarUrl: registrar.url,
      code: CODE,
      dataDir: dir,
      agentVersion: '1',
    });
    await expect(
      enroll({ registrarUrl: registrar.url, code: CODE, dataDir: dir, agentVersion: '1' }),
    ).rejects.toMatchObject({ code: 'ALREADY_ENROLLED' });
    const second = await enroll({
      registrarUrl: registrar.url,
      code: CODE,
      dataDir: dir,
      agentVersion: '1',
      force: true,
    });
    expect(second.deviceId).not.toBe(first.deviceId);
    expect(second.publicKey.x).not.toBe(first.publicKey.x);
  });

  it('reports a refused code without leaking it, and stores nothing', async () => {
    const dir = dataDir();
    const err = await enroll({
      registrarUrl: registrar.url,
      code: 'WRONG-CODE',
      dataDir: dir,
      agentVersion: '1',
    }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'REGISTRAR_REFUSED', status: 403 });
    expect((err as Error).message).toContain('INVALID_CLAIM_CODE');
    expect((err as Error).message).not.toContain('WRONG-CODE');
    expect(await new IdentityStore(dir).load()).toBeUndefined();
  });

  it('refuses a malformed registrar response (bad registrar key, bad MQTT URL)', async () => {
    registrar.tamper = (b) => ({
      ...b,
      registrarKey: {
        kty: 'OKP',
        crv: 'Ed25519',
        x: '__________________________________________8',
      },
    });
    const dir = dataDir();
    await expect(
      enroll({ registrarUrl: registrar.url, code: CODE, dataDir: dir, agentVersion: '1' }),
    ).rejects.toMatchObject({ code: 'BAD_REGISTRAR_RESPONSE' });
    registrar.tamper = (b) => ({ ...b, mqtt: { url: 'http://x', username: 'u', password: 'p' } });
    await expect(
      enroll({ registrarUrl: registrar.url, code: CODE, dataDir: dir, agentVersion: '1' }),
    ).rejects.toMatchObject({ code: 'BAD_REGISTRAR_RESPONSE' });
    expect(await new IdentityStore(dir).load()).toBeUndefined();
  });

  it('refuses plain http to a non-loopback registrar unless allowed', async () => {
    await expect(
      enroll({
        registrarUrl: 'http://registrar.example',
        code: CODE,
        dataDir: dataDir(),
        agentVersion: '1',
      }),
    ).rejects.toMatchObject({ code: 'INSECURE_REGISTRAR' });
    await expect(
      enroll({
        registrarUrl: 'http://registrar.invalid',
        code: CODE,
        dataDir: dataDir(),
        agentVersion: '1',
        allowInsecure: true,
        timeoutMs: 2000,
      }),
    ).rejects.toMatchObject({ code: 'REGISTRAR_UNREACHABLE' });
  });
});
