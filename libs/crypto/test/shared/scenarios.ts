// Runtime-neutral test scenarios: run by vitest in Node (test/scenarios.spec.ts) and,
// bundled, in Chromium (test/webrtc/browser.spec.ts). No test-framework imports here: each
// scenario throws on failure.
import vectors from '../../vectors/transcript.json' with { type: 'json' };
import {
  type ConsoleHandshakeOptions,
  type DeviceHandshakeOptions,
  type CryptoErrorCode,
  type Signer,
  HandshakeError,
  CryptoError,
  createEnrollmentProof,
  createReplayCache,
  createSigner,
  consoleHandshake,
  deviceHandshake,
  encodeTranscript,
  enrollmentProofMessage,
  exportPrivateJwk,
  exportPublicJwk,
  formatFingerprint,
  fromHex,
  generateKeyPair,
  generateSessionSigner,
  importPrivateJwk,
  importPublicJwk,
  jwkThumbprint,
  keyFingerprint,
  keyPairFromSecretKey,
  randomBytes,
  signGrant,
  toHex,
  transcriptHash,
  verify,
  verifyEnrollmentProof,
  verifyGrant,
} from '../../src/index.js';
import { type Tap, memoryChannelPair, messageType, rewriteJson } from './memory-channel.js';

export interface Scenario {
  name: string;
  run(): Promise<void>;
}

function assert(condition: unknown, message: string): asserts condition {
  if (!condition) throw new Error(`assertion failed: ${message}`);
}

function assertEqual<T>(actual: T, expected: T, message: string): void {
  if (actual !== expected) {
    throw new Error(`assertion failed: ${message}: ${String(actual)} !== ${String(expected)}`);
  }
}

async function expectCode(
  promise: Promise<unknown>,
  code: CryptoErrorCode,
  what: string,
): Promise<CryptoError> {
  try {
    await promise;
  } catch (error) {
    assert(error instanceof CryptoError, `${what}: expected CryptoError, got ${String(error)}`);
    assertEqual(error.code, code, `${what}: error code`);
    return error;
  }
  throw new Error(`assertion failed: ${what}: expected ${code}, but it succeeded`);
}

function randomFingerprint(): string {
  return formatFingerprint({ algorithm: 'sha-256', bytes: randomBytes(32) });
}

interface Fixture {
  registrar: ReturnType<typeof generateKeyPair>;
  device: ReturnType<typeof generateKeyPair>;
  deviceId: string;
  session: Signer;
  grant: string;
  consoleFp: string;
  deviceFp: string;
}

async function fixture(): Promise<Fixture> {
  const registrar = generateKeyPair();
  const device = generateKeyPair();
  const session = await generateSessionSigner();
  const deviceId = crypto.randomUUID();
  const grant = await signGrant(
    {
      issuer: 'registrar-test',
      userId: 'user-1',
      deviceId,
      orgId: 'org-1',
      role: 'operator',
      sessionKey: session.publicKey,
    },
    registrar,
  );
  return {
    registrar,
    device,
    deviceId,
    session,
    grant,
    consoleFp: randomFingerprint(),
    deviceFp: randomFingerprint(),
  };
}

interface PairOptions {
  tap?: Tap;
  console?: Partial<ConsoleHandshakeOptions>;
  device?: Partial<DeviceHandshakeOptions>;
}

async function runPair(f: Fixture, options: PairOptions = {}) {
  const [c, d] = memoryChannelPair(options.tap);
  const consoleSide = consoleHandshake(c, {
    deviceId: f.deviceId,
    grant: f.grant,
    sessionKey: f.session,
    localFingerprint: f.consoleFp,
    remoteFingerprint: f.deviceFp,
    ...options.console,
  });
  const deviceSide = deviceHandshake(d, {
    deviceId: f.deviceId,
    deviceKey: createSigner(f.device),
    registrarKey: exportPublicJwk(f.registrar.publicKey),
    issuer: 'registrar-test',
    localFingerprint: f.deviceFp,
    remoteFingerprint: f.consoleFp,
    ...options.device,
  });
  const [consoleResult, deviceResult] = await Promise.allSettled([consoleSide, deviceSide]);
  return { consoleResult, deviceResult, channels: [c, d] as const };
}

function rejectedWith(result: PromiseSettledResult<unknown>, code: CryptoErrorCode, what: string) {
  assert(result.status === 'rejected', `${what}: expected a rejection with ${code}`);
  const error: unknown = result.reason;
  assert(error instanceof HandshakeError, `${what}: expected HandshakeError, got ${String(error)}`);
  assertEqual(error.code, code, `${what}: code`);
  return error;
}

/**
 * Asserts the side that detects the problem fails with `code` (detected itself), and the
 * other side fails too (with the same code, learnt from the peer's error message, or —
 * with `either` — detected itself as well). Both ends end up closed.
 */
function refusedBy(
  r: Awaited<ReturnType<typeof runPair>>,
  detector: 'console' | 'device' | 'either',
  code: CryptoErrorCode,
): HandshakeError {
  const [first, second] =
    detector === 'device' ? [r.deviceResult, r.consoleResult] : [r.consoleResult, r.deviceResult];
  const error = rejectedWith(first, code, `${detector} detects`);
  const other = rejectedWith(second, code, 'the other side fails with the same code');
  if (detector === 'either') {
    assert(!error.remote || !other.remote, 'at least one side detected it itself');
  } else {
    assertEqual(error.remote, false, `${detector} detected it itself`);
    assertEqual(other.remote, true, 'the other side learnt it from the error message');
  }
  assert(r.channels[0].closed && r.channels[1].closed, 'channel closed after failure');
  return error;
}

/** Edits the first message of `type` going in `direction`. */
function editFirst(
  direction: 'a→b' | 'b→a',
  type: string,
  edit: (json: Record<string, unknown>) => void,
): Tap {
  let done = false;
  return (message, dir) => {
    if (done || dir !== direction || messageType(message) !== type) return message;
    done = true;
    return rewriteJson(message, edit);
  };
}

const hex = (s: string) => fromHex(s);

export const scenarios: Scenario[] = [
  {
    name: 'Ed25519 sign/verify round trip; JWK and raw export/import',
    async run() {
      const pair = generateKeyPair();
      const message = randomBytes(100);
      const signature = await createSigner(pair).sign(message);
      assert(verify(signature, message, pair.publicKey), 'signature verifies');
      const tampered = message.slice();
      tampered[0] = (tampered[0] ?? 0) ^ 1;
      assert(!verify(signature, tampered, pair.publicKey), 'tampered message refused');
      const back = importPrivateJwk(exportPrivateJwk(pair));
      assertEqual(toHex(back.secretKey), toHex(pair.secretKey), 'JWK round trip (secret)');
      assertEqual(
        toHex(importPublicJwk(exportPublicJwk(pair.publicKey))),
        toHex(pair.publicKey),
        'JWK round trip (public)',
      );
      const session = await generateSessionSigner();
      const s2 = await session.sign(message);
      assert(verify(s2, message, session.publicKey), 'WebCrypto session signature verifies');
    },
  },
  {
    name: 'known-answer vectors: keys, fingerprints and thumbprints',
    async run() {
      for (const name of ['device', 'session', 'registrar'] as const) {
        const k = vectors.keys[name];
        const pair = keyPairFromSecretKey(hex(k.secretKey));
        assertEqual(toHex(pair.publicKey), k.publicKey, `${name} public key`);
        assertEqual(jwkThumbprint(pair.publicKey), k.jwkThumbprint, `${name} thumbprint`);
      }
      const fp = keyFingerprint(hex(vectors.keys.device.publicKey));
      assertEqual(fp.base64url, vectors.keys.device.fingerprint.base64url, 'fingerprint base64url');
      assertEqual(fp.base32, vectors.keys.device.fingerprint.base32, 'fingerprint base32');
      await Promise.resolve();
    },
  },
  {
    name: 'known-answer vectors: enrollment proof',
    async run() {
      const e = vectors.enrollment;
      const device = keyPairFromSecretKey(hex(vectors.keys.device.secretKey));
      const message = enrollmentProofMessage({
        code: e.code,
        nonce: e.nonce,
        publicKey: device.publicKey,
      });
      assertEqual(toHex(message), e.message, 'enrollment message');
      const { proof, publicKey } = await createEnrollmentProof({
        code: e.code,
        nonce: e.nonce,
        signer: createSigner(device),
      });
      assertEqual(proof, e.proof, 'enrollment proof (deterministic Ed25519)');
      verifyEnrollmentProof({ code: e.code, nonce: e.nonce, publicKey, proof: e.proof });
    },
  },
  {
    name: 'known-answer vectors: grant JWS',
    async run() {
      const g = vectors.grant;
      const registrar = keyPairFromSecretKey(hex(vectors.keys.registrar.secretKey));
      const jws = await signGrant(
        {
          issuer: g.claims.iss,
          userId: g.claims.sub,
          deviceId: g.claims.aud,
          orgId: g.claims.org,
          role: 'viewer',
          routes: g.claims.routes,
          sessionKey: hex(vectors.keys.session.publicKey),
          sessionId: g.claims.sid,
          ttlSeconds: g.claims.exp - g.claims.iat,
          now: g.claims.iat * 1000,
          jti: g.claims.jti,
        },
        registrar,
      );
      assertEqual(jws, g.jws, 'grant JWS');
      const verified = await verifyGrant(g.jws, {
        registrarKey: registrar.publicKey,
        deviceId: g.claims.aud,
        now: (g.claims.iat + 10) * 1000,
      });
      assertEqual(verified.role, 'viewer', 'role');
    },
  },
  {
    name: 'known-answer vectors: handshake transcript and signatures',
    async run() {
      const h = vectors.handshake;
      const input = {
        deviceId: h.deviceId,
        consoleNonce: hex(h.consoleNonce),
        deviceNonce: hex(h.deviceNonce),
        consoleFingerprint: h.consoleFingerprint,
        deviceFingerprint: h.deviceFingerprint,
        deviceKey: hex(vectors.keys.device.publicKey),
        sessionKey: hex(vectors.keys.session.publicKey),
        grant: vectors.grant.jws,
      };
      const tc = encodeTranscript('console', input);
      const td = encodeTranscript('device', input);
      assertEqual(toHex(tc), h.consoleTranscript, 'console transcript');
      assertEqual(toHex(td), h.deviceTranscript, 'device transcript');
      assertEqual(toHex(transcriptHash(tc)), h.consoleTranscriptHash, 'console transcript hash');
      const session = createSigner(keyPairFromSecretKey(hex(vectors.keys.session.secretKey)));
      const device = createSigner(keyPairFromSecretKey(hex(vectors.keys.device.secretKey)));
      assertEqual(toHex(await session.sign(tc)), h.consoleSignature, 'console signature');
      assertEqual(toHex(await device.sign(td)), h.deviceSignature, 'device signature');
      assert(!verify(hex(h.consoleSignature), td, session.publicKey), 'role separation');
    },
  },
  {
    name: 'handshake succeeds when nobody tampers; TOFU pin then pinned',
    async run() {
      const f = await fixture();
      const r = await runPair(f);
      assert(
        r.consoleResult.status === 'fulfilled',
        `console: ${String((r.consoleResult as PromiseRejectedResult).reason)}`,
      );
      assert(
        r.deviceResult.status === 'fulfilled',
        `device: ${String((r.deviceResult as PromiseRejectedResult).reason)}`,
      );
      assertEqual(
        toHex(r.consoleResult.value.deviceKey),
        toHex(f.device.publicKey),
        'device key learnt',
      );
      assertEqual(r.consoleResult.value.firstSight, true, 'first sight');
      assertEqual(r.deviceResult.value.grant.sub, 'user-1', 'grant user');
      assertEqual(r.deviceResult.value.grant.role, 'operator', 'grant role');
      const again = await runPair(f, { console: { pinnedDeviceKey: f.device.publicKey } });
      assert(again.consoleResult.status === 'fulfilled', 'pinned key accepted');
      assertEqual(again.consoleResult.value.firstSight, false, 'not first sight');
      assert(again.deviceResult.status === 'fulfilled', 'device accepts');
    },
  },
  {
    name: 'messages after the handshake stay queued for the next reader (peer-http)',
    async run() {
      const f = await fixture();
      const [c, d] = memoryChannelPair();
      const consoleSide = consoleHandshake(c, {
        deviceId: f.deviceId,
        grant: f.grant,
        sessionKey: f.session,
        localFingerprint: f.consoleFp,
        remoteFingerprint: f.deviceFp,
      });
      const deviceSide = deviceHandshake(d, {
        deviceId: f.deviceId,
        deviceKey: createSigner(f.device),
        registrarKey: f.registrar.publicKey,
        localFingerprint: f.deviceFp,
        remoteFingerprint: f.consoleFp,
      });
      await consoleSide;
      c.send(new Uint8Array([1, 2, 3])); // first "peer-http" frame, possibly before the device finished
      await deviceSide;
      const got = await new Promise<Uint8Array>((resolve) => d.onMessage(resolve));
      assertEqual(toHex(got), '010203', 'first post-handshake message delivered intact');
    },
  },
  {
    name: 'swapped DTLS fingerprint (SDP rewritten in signaling) → FINGERPRINT_MISMATCH',
    async run() {
      const f = await fixture();
      // The device saw another console certificate in the offer than the console's own.
      const r = await runPair(f, { device: { remoteFingerprint: randomFingerprint() } });
      // Both ends compare what each saw, so both detect it.
      const e = refusedBy(r, 'either', 'FINGERPRINT_MISMATCH');
      assert(e.message.includes('possible man-in-the-middle'), 'says possible man-in-the-middle');
      const r2 = await runPair(f, { console: { remoteFingerprint: randomFingerprint() } });
      refusedBy(r2, 'either', 'FINGERPRINT_MISMATCH');
    },
  },
  {
    name: 'relay rewrites the fingerprints claimed in the hello → TRANSCRIPT_MISMATCH',
    async run() {
      const f = await fixture();
      const fake = randomFingerprint();
      // The device saw `fake` (the relay's certificate) instead of the console's; the relay
      // rewrites both hellos so that the plain comparison passes. The signatures still
      // cover what each side really saw.
      const hellos = [
        editFirst('a→b', 'hello', (j) => {
          (j['fingerprints'] as Record<string, unknown>)['local'] = fake;
        }),
        editFirst('b→a', 'hello', (j) => {
          (j['fingerprints'] as Record<string, unknown>)['remote'] = f.consoleFp;
        }),
      ];
      const r = await runPair(f, {
        device: { remoteFingerprint: fake },
        tap: (m, dir) => hellos.reduce<Uint8Array | undefined>((acc, t) => acc && t(acc, dir), m),
      });
      refusedBy(r, 'either', 'TRANSCRIPT_MISMATCH');
    },
  },
  {
    name: 'tampered transcript (nonce changed in transit) → TRANSCRIPT_MISMATCH',
    async run() {
      const f = await fixture();
      const r = await runPair(f, {
        tap: editFirst('a→b', 'hello', (j) => {
          j['nonce'] = 'A'.repeat(43);
        }),
      });
      refusedBy(r, 'either', 'TRANSCRIPT_MISMATCH');
    },
  },
  {
    name: 'forged signature → BAD_SIGNATURE',
    async run() {
      const f = await fixture();
      const r = await runPair(f, {
        tap: editFirst('b→a', 'auth', (j) => {
          const sig = String(j['signature']);
          j['signature'] = (sig[0] === 'A' ? 'B' : 'A') + sig.slice(1);
        }),
      });
      refusedBy(r, 'console', 'BAD_SIGNATURE');
    },
  },
  {
    name: 'replayed console nonce → NONCE_REPLAY; reflected nonce → NONCE_REPLAY',
    async run() {
      const f = await fixture();
      const replayCache = createReplayCache();
      const nonce = randomBytes(32);
      const first = await runPair(f, { console: { nonce }, device: { replayCache } });
      assert(first.deviceResult.status === 'fulfilled', 'first use accepted');
      const second = await runPair(f, { console: { nonce }, device: { replayCache } });
      refusedBy(second, 'device', 'NONCE_REPLAY');
      const reflected = await runPair(f, { console: { nonce }, device: { nonce } });
      refusedBy(reflected, 'either', 'NONCE_REPLAY');
    },
  },
  {
    name: 'expired grant → GRANT_EXPIRED',
    async run() {
      const f = await fixture();
      const old = await signGrant(
        {
          issuer: 'registrar-test',
          userId: 'user-1',
          deviceId: f.deviceId,
          orgId: 'org-1',
          role: 'viewer',
          sessionKey: f.session.publicKey,
          ttlSeconds: 300,
          now: Date.now() - 20 * 60_000,
        },
        f.registrar,
      );
      refusedBy(await runPair(f, { console: { grant: old } }), 'device', 'GRANT_EXPIRED');
    },
  },
  {
    name: 'grant for another device → GRANT_WRONG_DEVICE',
    async run() {
      const f = await fixture();
      const other = await signGrant(
        {
          issuer: 'registrar-test',
          userId: 'user-1',
          deviceId: crypto.randomUUID(),
          orgId: 'org-1',
          role: 'admin',
          sessionKey: f.session.publicKey,
        },
        f.registrar,
      );
      refusedBy(await runPair(f, { console: { grant: other } }), 'device', 'GRANT_WRONG_DEVICE');
    },
  },
  {
    name: 'grant signed by another key → GRANT_BAD_SIGNATURE',
    async run() {
      const f = await fixture();
      const forged = await signGrant(
        {
          issuer: 'registrar-test',
          userId: 'user-1',
          deviceId: f.deviceId,
          orgId: 'org-1',
          role: 'admin',
          sessionKey: f.session.publicKey,
        },
        generateKeyPair(),
      );
      refusedBy(await runPair(f, { console: { grant: forged } }), 'device', 'GRANT_BAD_SIGNATURE');
    },
  },
  {
    name: 'grant bound to another session key → GRANT_KEY_MISMATCH',
    async run() {
      const f = await fixture();
      // A stolen grant used with the thief's own session key.
      const thief = await generateSessionSigner();
      refusedBy(
        await runPair(f, { console: { sessionKey: thief } }),
        'device',
        'GRANT_KEY_MISMATCH',
      );
    },
  },
  {
    name: 'device presents another key than the pinned one → DEVICE_KEY_CHANGED',
    async run() {
      const f = await fixture();
      const r = await runPair(f, { console: { pinnedDeviceKey: generateKeyPair().publicKey } });
      const e = refusedBy(r, 'console', 'DEVICE_KEY_CHANGED');
      assert(e.message.includes('possible man-in-the-middle'), 'loud warning');
    },
  },
  {
    name: 'answered by another device → DEVICE_ID_MISMATCH',
    async run() {
      const f = await fixture();
      const r = await runPair(f, { console: { deviceId: crypto.randomUUID() } });
      refusedBy(r, 'console', 'DEVICE_ID_MISMATCH');
    },
  },
  {
    name: 'unknown handshake version → UNSUPPORTED_VERSION; garbage → MALFORMED',
    async run() {
      const f = await fixture();
      const v2 = await runPair(f, { tap: editFirst('a→b', 'hello', (j) => (j['pfh'] = 2)) });
      refusedBy(v2, 'device', 'UNSUPPORTED_VERSION');
      const garbage = await runPair(f, {
        tap: (m, dir) =>
          dir === 'b→a' && messageType(m) === 'hello' ? new Uint8Array([0xff, 0x00]) : m,
      });
      refusedBy(garbage, 'console', 'MALFORMED');
    },
  },
  {
    name: 'silent peer → TIMEOUT',
    async run() {
      const f = await fixture();
      const r = await runPair(f, {
        tap: (m, dir) => (dir === 'b→a' ? undefined : m),
        console: { timeoutMs: 50 },
        device: { timeoutMs: 60_000 },
      });
      rejectedWith(r.consoleResult, 'TIMEOUT', 'console times out');
      assert(r.deviceResult.status === 'rejected', 'device does not succeed');
    },
  },
];

export { expectCode };
