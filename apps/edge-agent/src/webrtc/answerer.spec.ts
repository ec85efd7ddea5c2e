import { randomUUID } from 'node:crypto';
import { exportPrivateJwk, exportPublicJwk, generateKeyPair, signGrant } from '@peerfetch/crypto';
import type { PeerConnection } from 'node-datachannel';
import { describe, expect, it } from 'vitest';
import type { DeviceIdentity } from '../identity.js';
import { silentLogger } from '../log.js';
import { WebRtcAnswerer } from './answerer.js';

const registrarPair = generateKeyPair();
const devicePair = generateKeyPair();
const deviceId = randomUUID();
const identity: DeviceIdentity = {
  deviceId,
  orgId: 'org-1',
  publicKey: exportPublicJwk(devicePair.publicKey),
  privateKey: exportPrivateJwk(devicePair),
  registrarKey: exportPublicJwk(registrarPair.publicKey),
  registrarUrl: 'https://registrar.invalid',
  mqtt: { url: 'mqtt://127.0.0.1:1', username: deviceId, password: 'x' },
  name: 'cam-unit',
  enrolledAt: 0,
};

/** A PeerConnection double that records remote candidates and ignores everything else. */
function recordingPeerConnection(added: string[]): PeerConnection {
  return new Proxy({} as PeerConnection, {
    get: (_target, key) =>
      key === 'addRemoteCandidate'
        ? (candidate: string) => void added.push(candidate)
        : () => undefined,
  });
}

describe('WebRtcAnswerer signaling', () => {
  it('keeps candidates that arrive while the grant of their offer is being verified', async () => {
    const added: string[] = [];
    const answerer = new WebRtcAnswerer({
      identity,
      handlerFor: () => () => Promise.resolve(new Response(null, { status: 204 })),
      send: () => Promise.resolve(),
      log: silentLogger(),
      maxSessions: 1,
      idleTimeoutS: 60,
      createPeerConnection: () => recordingPeerConnection(added),
    });
    const sessionId = randomUUID();
    const grant = await signGrant(
      {
        issuer: 'test',
        userId: 'u1',
        deviceId,
        orgId: 'org-1',
        role: 'viewer',
        sessionKey: generateKeyPair().publicKey,
      },
      registrarPair,
    );
    const sdp = 'v=0\r\na=mid:0\r\n';
    const candidate = 'candidate:1 1 UDP 2122317823 127.0.0.1 40999 typ host';
    // The candidate is handled while the offer still awaits its grant check.
    const offered = answerer.handle({ type: 'offer', sessionId, sdp, grant, iceServers: [] });
    await answerer.handle({ type: 'candidate', sessionId, candidate, mid: '0' });
    await offered;
    expect(added).toEqual([candidate]);
    await answerer.closeAll('test end');
  });
});
