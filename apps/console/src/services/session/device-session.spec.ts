// @vitest-environment node
// Real crypto (grant, handshake) and real peer-http over an in-memory transport pair; only
// the RTCPeerConnection and the signaling are fakes.
import { exportPublicJwk, generateKeyPair, keyFingerprint, memoryStorage } from '@peerfetch/crypto';
import { describe, expect, it, vi } from 'vitest';
import {
  DEVICE_ID,
  FP_DEVICE,
  fakeDevice,
  sdp,
  type FakeDevice,
} from '../../testing/fake-device.js';
import { DeviceSession, selectedPath, type SessionState } from './device-session.js';

interface Rig extends FakeDevice {
  session: DeviceSession;
  states: SessionState[];
}

function rig(options: Parameters<typeof fakeDevice>[0] = {}): Rig {
  const device = fakeDevice(options);
  const session = new DeviceSession({ deviceId: DEVICE_ID, ...device.options });
  const states: SessionState[] = [];
  session.on((e) => {
    if (e.type === 'state') states.push(e.state);
  });
  return { ...device, session, states };
}

describe('DeviceSession', () => {
  it('connects: grant, offer, trickle, handshake, pin on first sight, peer-http', async () => {
    const r = rig();
    await r.session.connect();
    expect(r.session.failure).toBeNull();
    expect(r.states).toEqual(['requesting-grant', 'connecting', 'handshaking', 'verified']);
    expect(r.session.role).toBe('viewer');
    expect(r.session.firstSight).toBe(true);
    expect(r.session.deviceKey?.display).toMatch(/^[A-Z2-7]{4}( [A-Z2-7]{1,4})+$/);
    expect(r.storage.getItem(`peerfetch.deviceKey.${DEVICE_ID}`)).not.toBeNull();
    expect(r.pcs[0]?.config.iceServers).toEqual([{ urls: 'stun:stun.test:3478' }]);
    expect(r.signals[0]?.offers[0]?.deviceId).toBe(DEVICE_ID);
    expect(r.signals[0]?.candidates[0]?.candidate).toContain('typ host');
    expect(r.pcs[0]?.added[0]?.candidate).toContain('6000'); // queued until the answer
    // the path is found after connect() resolved, then reported once
    await vi.waitFor(() => expect(r.session.path).toBe('srflx'));
    expect(r.signals[0]?.connected).toEqual(['srflx']);
    // every setup step marked once, in order
    const phases = r.session.phases;
    expect(Object.keys(phases)).toEqual([
      'grant',
      'signaling',
      'offer',
      'answer',
      'ice',
      'channel',
      'verified',
    ]);
    const marks = Object.values(phases);
    expect(marks).toEqual([...marks].sort((a, b) => a - b));
    const res = await r.session.http!.fetch('/api/hello');
    expect(await res.json()).toEqual({ path: '/api/hello', method: 'GET' });
    await r.session.refreshStats();
    expect(typeof r.session.rttMs).toBe('number');
    await r.session.close();
  });

  it('close ends everything, and reconnecting works with the pinned key', async () => {
    const storage = memoryStorage();
    const deviceKey = generateKeyPair();
    const r = rig({ storage, deviceKey });
    await r.session.connect();
    await r.session.close();
    expect(r.session.state).toBe('closed');
    expect(r.session.http).toBeNull();
    expect(r.pcs[0]?.closed).toBe(true);
    expect(r.signals[0]?.closedWith).toBe('closed by the user');
    await r.session.connect();
    expect(r.session.state).toBe('verified');
    expect(r.session.firstSight).toBe(false);
    expect(r.pcs).toHaveLength(2);
    await r.session.close();
  });

  it('refuses a changed device key loudly and connects only after an explicit re-pin', async () => {
    const storage = memoryStorage();
    const first = rig({ storage });
    await first.session.connect();
    const pinned = first.session.deviceKey?.display;
    await first.session.close();

    const newKey = generateKeyPair();
    const r = rig({ storage, deviceKey: newKey });
    await r.session.connect();
    expect(r.session.state).toBe('failed');
    expect(r.session.failure?.reason).toBe('DEVICE_KEY_CHANGED');
    expect(r.session.deviceKey?.display).toBe(pinned); // what was trusted before
    expect(r.session.http).toBeNull();
    expect(r.pcs[0]?.closed).toBe(true);

    await r.session.trustNewKey();
    expect(r.session.state).toBe('verified');
    expect(r.session.firstSight).toBe(true);
    expect(r.session.deviceKey?.display).toBe(keyFingerprint(newKey.publicKey).display);
    await r.session.close();
  });

  it('fails with typed reasons: grant refused, device refusal, fingerprint mismatch, lost link', async () => {
    const refused = rig({ refuseGrant: true });
    await refused.session.connect();
    expect(refused.session.failure).toMatchObject({ reason: 'GRANT_REFUSED', code: 'FORBIDDEN' });
    expect(refused.pcs).toHaveLength(0);
    // the signaling socket opened while the grant was requested: closed, nothing offered
    await vi.waitFor(() => expect(refused.signals[0]?.closedWith).toBeDefined());
    expect(refused.signals[0]?.offers).toEqual([]);

    const hangup = rig({ device: 'hangup' });
    await hangup.session.connect();
    expect(hangup.session.failure).toMatchObject({
      reason: 'DEVICE_REFUSED',
      code: 'GRANT_BAD_SIGNATURE',
    });
    expect(hangup.pcs[0]?.closed).toBe(true);

    const mitm = rig({ device: 'wrong-fingerprint' });
    await mitm.session.connect();
    expect(mitm.session.failure).toMatchObject({
      reason: 'HANDSHAKE_FAILED',
      code: 'FINGERPRINT_MISMATCH',
    });

    const lost = rig();
    await lost.session.connect();
    lost.pcs[0]?.fail();
    expect(lost.session.state).toBe('failed');
    expect(lost.session.failure?.reason).toBe('CONNECTION_LOST');
    expect(lost.session.http).toBeNull();
  });
});

describe('DeviceSession timeout', () => {
  it('fails with TIMEOUT, tears down, and a late answer cannot revive the attempt', async () => {
    const device = fakeDevice({ device: 'silent' });
    const session = new DeviceSession({
      deviceId: DEVICE_ID,
      ...device.options,
      setupTimeoutMs: 50,
    });
    await session.connect();
    expect(session.failure?.reason).toBe('TIMEOUT');
    expect(device.pcs[0]?.closed).toBe(true);
    device.signals[0]?.answer?.(sdp(FP_DEVICE)); // the device answers too late
    await new Promise((r) => setTimeout(r, 20));
    expect(session.state).toBe('failed');
    expect(session.http).toBeNull();
  });
});

describe('selectedPath', () => {
  const report = (entries: Record<string, unknown>[]) =>
    new Map(entries.map((e) => [e['id'] as string, e])) as unknown as RTCStatsReport;
  it('reads the selected pair, else a nominated succeeded one; the most indirect end wins', () => {
    expect(
      selectedPath(
        report([
          {
            id: 'P',
            type: 'candidate-pair',
            nominated: true,
            state: 'succeeded',
            localCandidateId: 'L',
            remoteCandidateId: 'R',
          },
          { id: 'L', type: 'local-candidate', candidateType: 'relay' },
          { id: 'R', type: 'remote-candidate', candidateType: 'host' },
        ]),
      ),
    ).toBe('relay');
    expect(
      selectedPath(report([{ id: 'X', type: 'candidate-pair', state: 'waiting' }])),
    ).toBeNull();
  });
  it('keeps the exported JWK shape the registrar expects', () => {
    const k = generateKeyPair();
    expect(exportPublicJwk(k.publicKey)).toMatchObject({ kty: 'OKP', crv: 'Ed25519' });
  });
});
