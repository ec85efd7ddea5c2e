// A relay in the signaling path (registrar, broker) tries to sit in the middle of a real
// WebRTC DataChannel: node-datachannel peers on loopback, run inside the loopback-only
// network namespace. The handshake must refuse it, and accept the honest relay.
import nodeDataChannel, { type PeerConnection } from 'node-datachannel';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import {
  type ConsoleHandshakeResult,
  type DeviceHandshakeResult,
  type HandshakeChannel,
  type Signer,
  HandshakeError,
  consoleHandshake,
  createSigner,
  deviceHandshake,
  formatFingerprint,
  generateKeyPair,
  generateSessionSigner,
  parseSdpFingerprint,
  randomBytes,
  signGrant,
} from '../../src/index.js';
import { rewriteJson, messageType } from '../shared/memory-channel.js';
import {
  type Signal,
  Endpoint,
  channelOf,
  closeAll,
  incomingChannel,
  newPeer,
  whenOpen,
} from './ndc.js';

const peers: PeerConnection[] = [];
function peer(name: string): PeerConnection {
  const pc = newPeer(name);
  peers.push(pc);
  return pc;
}
afterEach(async () => {
  closeAll(...peers.splice(0));
  await new Promise((resolve) => setTimeout(resolve, 20));
});
afterAll(() => {
  nodeDataChannel.cleanup();
});

interface Identities {
  deviceId: string;
  device: ReturnType<typeof generateKeyPair>;
  registrar: ReturnType<typeof generateKeyPair>;
  session: Signer;
  grant: string;
}

async function identities(): Promise<Identities> {
  const registrar = generateKeyPair();
  const device = generateKeyPair();
  const session = await generateSessionSigner();
  const deviceId = crypto.randomUUID();
  const grant = await signGrant(
    {
      issuer: 'registrar',
      userId: 'alice',
      deviceId,
      orgId: 'org',
      role: 'viewer',
      sessionKey: session.publicKey,
    },
    registrar,
  );
  return { registrar, device, session, deviceId, grant };
}

/** Runs both handshakes; each side uses the fingerprints from the SDPs it really has. */
async function handshakes(
  ids: Identities,
  consoleSide: { channel: HandshakeChannel; endpoint: Endpoint },
  deviceSide: { channel: HandshakeChannel; endpoint: Endpoint },
): Promise<
  [PromiseSettledResult<ConsoleHandshakeResult>, PromiseSettledResult<DeviceHandshakeResult>]
> {
  const fp = (endpoint: Endpoint) => ({
    localFingerprint: parseSdpFingerprint(endpoint.localSdp()),
    remoteFingerprint: parseSdpFingerprint(endpoint.appliedRemoteSdp()),
  });
  return Promise.allSettled([
    consoleHandshake(consoleSide.channel, {
      deviceId: ids.deviceId,
      grant: ids.grant,
      sessionKey: ids.session,
      ...fp(consoleSide.endpoint),
    }),
    deviceHandshake(deviceSide.channel, {
      deviceId: ids.deviceId,
      deviceKey: createSigner(ids.device),
      registrarKey: ids.registrar.publicKey,
      ...fp(deviceSide.endpoint),
    }),
  ]);
}

function codeOf(result: PromiseSettledResult<unknown>): string {
  if (result.status === 'fulfilled') return 'SUCCEEDED';
  const reason: unknown = result.reason;
  return reason instanceof HandshakeError ? reason.code : `not a HandshakeError: ${String(reason)}`;
}

/** Console (offerer) and device (answerer) with `relay` in the signaling path between them. */
function direct(relay: (signal: Signal, to: 'device' | 'console') => Signal) {
  const pcC = peer('console');
  const pcD = peer('device');
  const c: Endpoint = new Endpoint(pcC, (s) => d.receive(relay(s, 'device')));
  const d: Endpoint = new Endpoint(pcD, (s) => c.receive(relay(s, 'console')));
  const incoming = incomingChannel(pcD);
  const dcC = pcC.createDataChannel('peerfetch');
  return { c, d, dcC, incoming };
}

describe('channel handshake over real node-datachannel peers', () => {
  it('honest relay (SDP forwarded unchanged): both sides succeed and the channel carries data', async () => {
    const ids = await identities();
    const { c, d, dcC, incoming } = direct((s) => s);
    const chanC = channelOf(dcC);
    const [dcD] = await Promise.all([incoming.then(whenOpen), whenOpen(dcC)]);
    const chanD = channelOf(dcD);
    const [rc, rd] = await handshakes(
      ids,
      { channel: chanC, endpoint: c },
      { channel: chanD, endpoint: d },
    );
    expect(codeOf(rc)).toBe('SUCCEEDED');
    expect(codeOf(rd)).toBe('SUCCEEDED');
    if (rc.status === 'fulfilled') expect(rc.value.deviceKey).toEqual(ids.device.publicKey);
    if (rd.status === 'fulfilled') expect(rd.value.grant.sub).toBe('alice');
    // The handshake fingerprints are the ones of the real certificates on both ends.
    expect(formatFingerprint(parseSdpFingerprint(c.localSdp()))).toBe(
      formatFingerprint(parseSdpFingerprint(d.remoteSdp ?? '')),
    );
    const next = new Promise<Uint8Array>((resolve) => chanD.onMessage(resolve));
    chanC.send(new Uint8Array([7, 7, 7]));
    expect(Array.from(await next)).toEqual([7, 7, 7]);
  });

  describe('a relay that substitutes its own peer (two DTLS sessions, relaying messages)', () => {
    type Fingerprints = Record<'console' | 'device' | 'mitmToConsole' | 'mitmToDevice', string>;
    async function mitm(
      tamper?: (m: Uint8Array, to: 'device' | 'console', fps: Fingerprints) => Uint8Array,
    ) {
      const ids = await identities();
      const pcC = peer('console');
      const pcD = peer('device');
      const pcMc = peer('mitm-facing-console');
      const pcMd = peer('mitm-facing-device');
      // The relay answers the console's offer itself and makes its own offer to the device.
      const c: Endpoint = new Endpoint(pcC, (s) => mc.receive(s));
      const mc: Endpoint = new Endpoint(pcMc, (s) => c.receive(s));
      const md: Endpoint = new Endpoint(pcMd, (s) => d.receive(s));
      const d: Endpoint = new Endpoint(pcD, (s) => md.receive(s));
      const incomingMc = incomingChannel(pcMc);
      const incomingD = incomingChannel(pcD);
      const dcC = pcC.createDataChannel('peerfetch');
      const dcMd = pcMd.createDataChannel('peerfetch');
      const chanC = channelOf(dcC);
      const chanMd = channelOf(dcMd);
      const [dcMc, dcD] = await Promise.all([
        incomingMc.then(whenOpen),
        incomingD.then(whenOpen),
        whenOpen(dcC),
        whenOpen(dcMd),
      ]);
      const chanMc = channelOf(dcMc);
      const chanD = channelOf(dcD);
      const fps: Fingerprints = {
        console: formatFingerprint(parseSdpFingerprint(c.localSdp())),
        device: formatFingerprint(parseSdpFingerprint(d.localSdp())),
        mitmToConsole: formatFingerprint(parseSdpFingerprint(mc.localSdp())),
        mitmToDevice: formatFingerprint(parseSdpFingerprint(md.localSdp())),
      };
      // Sanity: the relay really is in the middle (each end sees the relay's certificate).
      expect(formatFingerprint(parseSdpFingerprint(c.remoteSdp ?? ''))).toBe(fps.mitmToConsole);
      expect(formatFingerprint(parseSdpFingerprint(d.remoteSdp ?? ''))).toBe(fps.mitmToDevice);
      let relayed = 0;
      chanMc.onMessage((m) => {
        relayed++;
        chanMd.send(tamper ? tamper(m, 'device', fps) : m);
      });
      chanMd.onMessage((m) => {
        relayed++;
        chanMc.send(tamper ? tamper(m, 'console', fps) : m);
      });
      const results = await handshakes(
        ids,
        { channel: chanC, endpoint: c },
        { channel: chanD, endpoint: d },
      );
      expect(relayed).toBeGreaterThan(0);
      return { results };
    }

    it('relaying the handshake unchanged → FINGERPRINT_MISMATCH on both ends', async () => {
      const { results } = await mitm();
      const [rc, rd] = results;
      expect(codeOf(rc)).toBe('FINGERPRINT_MISMATCH');
      expect(codeOf(rd)).toBe('FINGERPRINT_MISMATCH');
      expect((rc as PromiseRejectedResult).reason).toHaveProperty(
        'message',
        expect.stringContaining('possible man-in-the-middle'),
      );
    });

    it('also rewriting the fingerprints claimed in the hellos → TRANSCRIPT_MISMATCH on both ends', async () => {
      const { results } = await mitm((m, to, fps) => {
        if (messageType(m) !== 'hello') return m;
        return rewriteJson(m, (j) => {
          // Make each end's claims the mirror of what the other end sees.
          j['fingerprints'] =
            to === 'device'
              ? { local: fps.mitmToDevice, remote: fps.device }
              : { local: fps.mitmToConsole, remote: fps.console };
        });
      });
      const [rc, rd] = results;
      expect(codeOf(rc)).toBe('TRANSCRIPT_MISMATCH');
      expect(codeOf(rd)).toBe('TRANSCRIPT_MISMATCH');
    });
  });

  it('a relay that only rewrites the fingerprint line: DTLS fails, no handshake succeeds', async () => {
    const ids = await identities();
    const fake = formatFingerprint({ algorithm: 'sha-256', bytes: randomBytes(32) });
    const { c, d, dcC, incoming } = direct((s, to) =>
      s.type === 'offer' && to === 'device'
        ? { ...s, sdp: s.sdp.replace(/^a=fingerprint:.*$/gm, `a=fingerprint:${fake}`) }
        : s,
    );
    const chanC = channelOf(dcC);
    const outcome = await Promise.race([
      Promise.all([incoming.then(whenOpen), whenOpen(dcC)]).then(([dcD]) => dcD),
      c.waitForState(['failed', 'closed']),
      d.waitForState(['failed', 'closed']),
    ]);
    // The rewrite took effect: the device applied the fake fingerprint.
    expect(formatFingerprint(parseSdpFingerprint(d.appliedRemoteSdp()))).toBe(fake);
    if (typeof outcome === 'string') {
      // The expected path: the device's DTLS refuses a certificate that does not match the
      // (rewritten) offer, so no channel ever opens.
      expect(['failed', 'closed']).toContain(outcome);
    } else {
      // Should DTLS ever let it through, the handshake must still refuse it.
      const [rc, rd] = await handshakes(
        ids,
        { channel: chanC, endpoint: c },
        { channel: channelOf(outcome), endpoint: d },
      );
      expect(codeOf(rc)).not.toBe('SUCCEEDED');
      expect(codeOf(rd)).not.toBe('SUCCEEDED');
    }
  });
});
