// Whatever a peer sends, the handshake ends in a HandshakeError (never success, never
// another exception, never an unhandled rejection), and sends at most its own messages.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type HandshakeChannel,
  HandshakeError,
  consoleHandshake,
  createSigner,
  deviceHandshake,
  formatFingerprint,
  generateKeyPair,
  randomBytes,
  toBase64url,
} from '../src/index.js';

const fp = () => formatFingerprint({ algorithm: 'sha-256', bytes: randomBytes(32) });
const encoder = new TextEncoder();

function scriptedPeer(messages: Uint8Array[]): HandshakeChannel & { sent: Uint8Array[] } {
  const sent: Uint8Array[] = [];
  return {
    sent,
    send(m) {
      sent.push(m);
    },
    onMessage(listener) {
      if (!listener) return;
      const pending = messages.splice(0);
      setTimeout(() => {
        for (const m of pending) listener(m);
      }, 0);
    },
  };
}

const b64 = (n: number) => fc.uint8Array({ minLength: n, maxLength: n }).map(toBase64url);
const hostileMessage = fc.oneof(
  fc.uint8Array({ maxLength: 64 }),
  fc.string().map((s) => encoder.encode(s)),
  fc
    .record(
      {
        pfh: fc.oneof(fc.constant(1), fc.integer()),
        type: fc.constantFrom('hello', 'auth', 'ok', 'error', 'x'),
        role: fc.constantFrom('console', 'device', 'x'),
        nonce: b64(32),
        sessionKey: b64(32),
        deviceKey: b64(32),
        deviceId: fc.string(),
        grant: fc.string(),
        code: fc.string(),
        transcriptHash: b64(32),
        signature: b64(64),
        fingerprints: fc.record({ local: fc.constant(fp()), remote: fc.string() }),
      },
      { requiredKeys: [] },
    )
    .map((o) => encoder.encode(JSON.stringify(o))),
);

describe('handshake robustness', () => {
  it('device: arbitrary peer messages always end in a HandshakeError', async () => {
    const device = generateKeyPair();
    const registrar = generateKeyPair();
    await fc.assert(
      fc.asyncProperty(fc.array(hostileMessage, { maxLength: 5 }), async (messages) => {
        const channel = scriptedPeer(messages);
        const error = await deviceHandshake(channel, {
          deviceId: 'd',
          deviceKey: createSigner(device),
          registrarKey: registrar.publicKey,
          localFingerprint: fp(),
          remoteFingerprint: fp(),
          timeoutMs: 20,
        }).then(
          () => new Error('handshake succeeded'),
          (e: unknown) => e,
        );
        expect(error).toBeInstanceOf(HandshakeError);
      }),
      { numRuns: 150 },
    );
  });

  it('console: arbitrary peer messages always end in a HandshakeError', async () => {
    const session = createSigner(generateKeyPair());
    await fc.assert(
      fc.asyncProperty(fc.array(hostileMessage, { maxLength: 5 }), async (messages) => {
        const channel = scriptedPeer(messages);
        const error = await consoleHandshake(channel, {
          deviceId: 'd',
          grant: 'a.b.c',
          sessionKey: session,
          localFingerprint: fp(),
          remoteFingerprint: fp(),
          timeoutMs: 20,
        }).then(
          () => new Error('handshake succeeded'),
          (e: unknown) => e,
        );
        expect(error).toBeInstanceOf(HandshakeError);
      }),
      { numRuns: 150 },
    );
  });

  it('refuses an oversized message', async () => {
    const channel = scriptedPeer([new Uint8Array(17 * 1024)]);
    await expect(
      consoleHandshake(channel, {
        deviceId: 'd',
        grant: 'a.b.c',
        sessionKey: createSigner(generateKeyPair()),
        localFingerprint: fp(),
        remoteFingerprint: fp(),
      }),
    ).rejects.toMatchObject({ code: 'MALFORMED' });
    const last = new TextDecoder().decode(channel.sent.at(-1));
    expect(JSON.parse(last)).toMatchObject({ pfh: 1, type: 'error', code: 'MALFORMED' });
  });
});
