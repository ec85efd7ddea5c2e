// The channel handshake: runs on the DataChannel before any HTTP frame and binds both
// identities (device identity key; console session key bound by a registrar grant) to
// both DTLS fingerprints as each side saw them in the SDP. See docs/security.md.
//
// Wire: each message is one UTF-8 JSON object (≤ 16 KiB) with "pfh": 1.
//   console → device  {"pfh":1,"type":"hello","role":"console","nonce","sessionKey","grant","fingerprints":{"local","remote"}}
//   device  → console {"pfh":1,"type":"hello","role":"device","nonce","deviceId","deviceKey","fingerprints":{"local","remote"}}
//   both (after checking the peer's hello)
//                     {"pfh":1,"type":"auth","transcriptHash","signature"}
//   on failure        {"pfh":1,"type":"error","code","message"}   then close
// Bytes are base64url; fingerprints are "sha-256 AB:CD:…" as the sender saw them
// ("local" = its own certificate, "remote" = from the SDP it received).
//   both (after verifying the peer's auth)
//                     {"pfh":1,"type":"ok"}
// Both hellos are sent at once; each side answers the peer's hello with its auth
// (signature over `encodeTranscript(ownRole, …)`), answers the peer's auth with ok once it
// verifies, and finishes when it has both verified the peer's auth and received the peer's
// ok: both sides succeed, or neither does. Later messages (peer-http) stay queued in the
// transport.
import { CryptoError, HandshakeError, MITM_WARNING, isCryptoErrorCode } from './errors.js';
import { bytesEqual, fromBase64url, fromUtf8, toBase64url, utf8 } from './encoding.js';
import {
  type DtlsFingerprint,
  fingerprintsEqual,
  formatFingerprint,
  parseFingerprint,
  toFingerprint,
} from './fingerprint.js';
import {
  type VerifiedGrant,
  type VerifyGrantOptions,
  assertGrantBoundTo,
  verifyGrant,
} from './grants.js';
import {
  type KeyFingerprint,
  type Signer,
  NONCE_LENGTH,
  PUBLIC_KEY_LENGTH,
  SIGNATURE_LENGTH,
  assertPublicKey,
  keyFingerprint,
  randomNonce,
  verify,
} from './keys.js';
import type { ReplayCache } from './replay.js';
import {
  type HandshakeRole,
  type TranscriptInput,
  encodeTranscript,
  transcriptHash,
} from './transcript.js';

export const HANDSHAKE_VERSION = 1;
export const MAX_HANDSHAKE_MESSAGE = 16 * 1024;
export const DEFAULT_HANDSHAKE_TIMEOUT_MS = 10_000;

/**
 * The minimal message channel the handshake needs. Structurally a subset of peer-http's
 * `Transport`, so a Transport can be passed as is.
 */
export interface HandshakeChannel {
  send(message: Uint8Array): void;
  onMessage(listener: ((message: Uint8Array) => void) | undefined): void;
  close?(): void;
  onClose?(listener: ((error?: Error) => void) | undefined): void;
}

interface CommonOptions {
  /** Our own DTLS fingerprint (from our local description's SDP). */
  localFingerprint: DtlsFingerprint | string;
  /** The peer's DTLS fingerprint, from the SDP we received. */
  remoteFingerprint: DtlsFingerprint | string;
  /** Default 10 000 ms. */
  timeoutMs?: number;
  /** Close the channel after a failure (default true). */
  closeOnFailure?: boolean;
  /** Fixed nonce (known-answer tests only). */
  nonce?: Uint8Array;
}

export interface ConsoleHandshakeOptions extends CommonOptions {
  /** The device we called. */
  deviceId: string;
  /** The grant from the registrar, bound to `sessionKey`. */
  grant: string;
  /** The console's ephemeral session key (grant `cnf.jkt`). */
  sessionKey: Signer;
  /**
   * The device key pinned on an earlier session (trust on first use). If set and the
   * device presents another key, the handshake fails with DEVICE_KEY_CHANGED.
   */
  pinnedDeviceKey?: Uint8Array;
}

export interface ConsoleHandshakeResult {
  deviceKey: Uint8Array;
  deviceKeyFingerprint: KeyFingerprint;
  /** True when no key was pinned: the caller should pin `deviceKey` now. */
  firstSight: boolean;
}

export interface DeviceHandshakeOptions extends CommonOptions {
  deviceId: string;
  /** The device identity key. */
  deviceKey: Signer;
  /** Registrar key(s) pinned at enrollment; `issuer` if the registrar id is known. */
  registrarKey: VerifyGrantOptions['registrarKey'];
  issuer?: string;
  /** Remembers console nonces (share one per device). */
  replayCache?: ReplayCache;
  /** Clock, ms (tests). */
  now?: () => number;
}

export interface DeviceHandshakeResult {
  grant: VerifiedGrant;
  sessionKey: Uint8Array;
}

type Json = Record<string, unknown>;

interface PeerHello {
  nonce: Uint8Array;
  /** The peer's own certificate and the one it saw for us. */
  local: DtlsFingerprint;
  remote: DtlsFingerprint;
  fields: Json;
}

function fail(code: CryptoError['code'], message: string): never {
  throw new HandshakeError(code, message);
}

function decode(message: Uint8Array): Json {
  if (!(message instanceof Uint8Array) || message.length > MAX_HANDSHAKE_MESSAGE) {
    fail('MALFORMED', 'handshake message too large or not binary');
  }
  let value: unknown;
  try {
    value = JSON.parse(fromUtf8(message));
  } catch (cause) {
    throw new HandshakeError('MALFORMED', 'handshake message is not JSON', { cause });
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    fail('MALFORMED', 'handshake message is not an object');
  }
  const json = value as Json;
  if (json['pfh'] !== HANDSHAKE_VERSION) {
    fail('UNSUPPORTED_VERSION', `unsupported handshake version ${String(json['pfh'])}`);
  }
  if (typeof json['type'] !== 'string') fail('MALFORMED', 'handshake message has no type');
  return json;
}

function encode(json: Json): Uint8Array {
  return utf8(JSON.stringify({ pfh: HANDSHAKE_VERSION, ...json }));
}

function bytesField(json: Json, name: string, length: number): Uint8Array {
  try {
    return fromBase64url(json[name], length, name);
  } catch (cause) {
    throw new HandshakeError('MALFORMED', `handshake field ${name} is invalid`, { cause });
  }
}

function parseHello(json: Json, expectedRole: HandshakeRole, ownNonce: Uint8Array): PeerHello {
  if (json['type'] !== 'hello') fail('MALFORMED', `expected hello, got ${String(json['type'])}`);
  if (json['role'] !== expectedRole) fail('MALFORMED', `peer is not a ${expectedRole}`);
  const nonce = bytesField(json, 'nonce', NONCE_LENGTH);
  if (bytesEqual(nonce, ownNonce)) fail('NONCE_REPLAY', 'peer reflected our nonce');
  const fps = json['fingerprints'] as Json | undefined;
  let local: DtlsFingerprint;
  let remote: DtlsFingerprint;
  try {
    if (typeof fps !== 'object' || fps === null) throw new Error('missing');
    local = parseFingerprint(String(fps['local']));
    remote = parseFingerprint(String(fps['remote']));
  } catch (cause) {
    throw new HandshakeError('MALFORMED', 'handshake fingerprints are invalid', { cause });
  }
  return { nonce, local, remote, fields: json };
}

function checkFingerprints(peer: PeerHello, local: DtlsFingerprint, remote: DtlsFingerprint): void {
  if (!fingerprintsEqual(peer.local, remote) || !fingerprintsEqual(peer.remote, local)) {
    fail(
      'FINGERPRINT_MISMATCH',
      `${MITM_WARNING}: the DTLS fingerprints differ between the two ends ` +
        `(we have ${formatFingerprint(local)} and see ${formatFingerprint(remote)}; ` +
        `the peer has ${formatFingerprint(peer.local)} and sees ${formatFingerprint(peer.remote)})`,
    );
  }
}

function checkAuth(
  json: Json,
  peerRole: HandshakeRole,
  transcript: TranscriptInput,
  peerKey: Uint8Array,
): void {
  if (json['type'] !== 'auth') fail('MALFORMED', `expected auth, got ${String(json['type'])}`);
  const hash = bytesField(json, 'transcriptHash', 32);
  const signature = bytesField(json, 'signature', SIGNATURE_LENGTH);
  const expected = encodeTranscript(peerRole, transcript);
  if (!bytesEqual(hash, transcriptHash(expected))) {
    fail('TRANSCRIPT_MISMATCH', `${MITM_WARNING}: the peer signed a different transcript`);
  }
  if (!verify(signature, expected, peerKey)) {
    fail('BAD_SIGNATURE', `the ${peerRole}'s handshake signature does not verify`);
  }
}

async function authMessage(
  role: HandshakeRole,
  transcript: TranscriptInput,
  signer: Signer,
): Promise<Uint8Array> {
  const bytes = encodeTranscript(role, transcript);
  const signature = await signer.sign(bytes);
  return encode({
    type: 'auth',
    transcriptHash: toBase64url(transcriptHash(bytes)),
    signature: toBase64url(signature),
  });
}

/**
 * Runs one side: `onHello` checks the peer's hello and returns our auth message and a
 * `finish` that checks the peer's auth; then ok messages are exchanged. Settles once.
 */
function run<T>(
  channel: HandshakeChannel,
  options: CommonOptions,
  hello: Uint8Array,
  onHello: (json: Json) => Promise<{ auth: Uint8Array; finish: (json: Json) => T }>,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let settled = false;
    let stage: 'hello' | 'auth' | 'ok' | 'done' = 'hello';
    let result: { value: T } | undefined;
    let chain: Promise<void> = Promise.resolve();
    let finish: ((json: Json) => T) | undefined;

    const cleanup = () => {
      clearTimeout(timer);
      channel.onMessage(undefined);
      channel.onClose?.(undefined);
    };
    const succeed = (value: T) => {
      if (settled) return;
      settled = true;
      cleanup();
      resolve(value);
    };
    const failWith = (error: unknown, notifyPeer: boolean) => {
      if (settled) return;
      settled = true;
      cleanup();
      const err =
        error instanceof HandshakeError
          ? error
          : error instanceof CryptoError
            ? new HandshakeError(error.code, error.message, { cause: error })
            : new HandshakeError('MALFORMED', 'handshake failed', { cause: error });
      if (notifyPeer) {
        try {
          channel.send(
            encode({ type: 'error', code: err.code, message: err.message.slice(0, 512) }),
          );
        } catch {
          // the channel may already be gone
        }
      }
      if (options.closeOnFailure ?? true) {
        try {
          channel.close?.();
        } catch {
          // ignore
        }
      }
      reject(err);
    };

    const timer = setTimeout(
      () => failWith(new HandshakeError('TIMEOUT', 'handshake timed out'), true),
      options.timeoutMs ?? DEFAULT_HANDSHAKE_TIMEOUT_MS,
    );

    channel.onClose?.((error) =>
      failWith(
        new HandshakeError('CLOSED', 'channel closed during the handshake', { cause: error }),
        false,
      ),
    );
    channel.onMessage((message) => {
      if (settled || stage === 'done') return;
      let json: Json;
      try {
        json = decode(message);
      } catch (error) {
        failWith(error, true);
        return;
      }
      if (json['type'] === 'error') {
        stage = 'done';
        channel.onMessage(undefined);
        const code = isCryptoErrorCode(json['code']) ? json['code'] : 'MALFORMED';
        const text = typeof json['message'] === 'string' ? json['message'].slice(0, 512) : '';
        failWith(
          new HandshakeError(code, `peer refused the handshake: ${text}`, { remote: true }),
          false,
        );
        return;
      }
      if (stage === 'hello') {
        stage = 'auth';
        chain = chain.then(async () => {
          if (settled) return;
          const step = await onHello(json);
          if (settled) return;
          finish = step.finish;
          channel.send(step.auth);
        });
      } else if (stage === 'auth') {
        stage = 'ok';
        chain = chain.then(() => {
          if (settled || !finish) return;
          result = { value: finish(json) };
          channel.send(encode({ type: 'ok' }));
        });
      } else {
        // The peer's ok is its last handshake message: stop reading now so that what
        // follows (peer-http) stays queued in the transport.
        stage = 'done';
        channel.onMessage(undefined);
        if (json['type'] !== 'ok') {
          failWith(
            new HandshakeError('MALFORMED', `expected ok, got ${String(json['type'])}`),
            true,
          );
          return;
        }
        chain = chain.then(() => {
          if (settled || !result) return;
          succeed(result.value);
        });
      }
      chain = chain.catch((error: unknown) => failWith(error, true));
    });

    try {
      channel.send(hello);
    } catch (error) {
      failWith(
        new HandshakeError('CLOSED', 'could not send on the channel', { cause: error }),
        false,
      );
    }
  });
}

/** Console side of the handshake. Rejects with `HandshakeError`. */
export function consoleHandshake(
  channel: HandshakeChannel,
  options: ConsoleHandshakeOptions,
): Promise<ConsoleHandshakeResult> {
  const local = toFingerprint(options.localFingerprint);
  const remote = toFingerprint(options.remoteFingerprint);
  const nonce = options.nonce ?? randomNonce();
  const sessionKey = options.sessionKey.publicKey;
  const hello = encode({
    type: 'hello',
    role: 'console',
    nonce: toBase64url(nonce),
    sessionKey: toBase64url(sessionKey),
    grant: options.grant,
    fingerprints: { local: formatFingerprint(local), remote: formatFingerprint(remote) },
  });
  return run(channel, options, hello, async (json) => {
    const peer = parseHello(json, 'device', nonce);
    if (json['deviceId'] !== options.deviceId) {
      fail(
        'DEVICE_ID_MISMATCH',
        `${MITM_WARNING}: answered by another device than ${options.deviceId}`,
      );
    }
    const deviceKey = bytesField(json, 'deviceKey', PUBLIC_KEY_LENGTH);
    try {
      assertPublicKey(deviceKey);
    } catch (cause) {
      throw new HandshakeError('MALFORMED', 'device key is not an Ed25519 key', { cause });
    }
    if (options.pinnedDeviceKey && !bytesEqual(options.pinnedDeviceKey, deviceKey)) {
      fail(
        'DEVICE_KEY_CHANGED',
        `${MITM_WARNING}: device ${options.deviceId} presented identity key ` +
          `${keyFingerprint(deviceKey).display}, not the pinned ` +
          `${keyFingerprint(options.pinnedDeviceKey).display}`,
      );
    }
    checkFingerprints(peer, local, remote);
    const transcript: TranscriptInput = {
      deviceId: options.deviceId,
      consoleNonce: nonce,
      deviceNonce: peer.nonce,
      consoleFingerprint: local,
      deviceFingerprint: remote,
      deviceKey,
      sessionKey,
      grant: options.grant,
    };
    const auth = await authMessage('console', transcript, options.sessionKey);
    return {
      auth,
      finish: (authJson) => {
        checkAuth(authJson, 'device', transcript, deviceKey);
        return {
          deviceKey,
          deviceKeyFingerprint: keyFingerprint(deviceKey),
          firstSight: options.pinnedDeviceKey === undefined,
        };
      },
    };
  });
}

/** Device side of the handshake. Rejects with `HandshakeError`. */
export function deviceHandshake(
  channel: HandshakeChannel,
  options: DeviceHandshakeOptions,
): Promise<DeviceHandshakeResult> {
  const local = toFingerprint(options.localFingerprint);
  const remote = toFingerprint(options.remoteFingerprint);
  const nonce = options.nonce ?? randomNonce();
  const deviceKey = options.deviceKey.publicKey;
  const now = options.now ?? Date.now;
  const hello = encode({
    type: 'hello',
    role: 'device',
    nonce: toBase64url(nonce),
    deviceId: options.deviceId,
    deviceKey: toBase64url(deviceKey),
    fingerprints: { local: formatFingerprint(local), remote: formatFingerprint(remote) },
  });
  return run(channel, options, hello, async (json) => {
    const peer = parseHello(json, 'console', nonce);
    const sessionKey = bytesField(json, 'sessionKey', PUBLIC_KEY_LENGTH);
    if (options.replayCache && !options.replayCache.checkAndAdd(toBase64url(peer.nonce), now())) {
      fail('NONCE_REPLAY', 'console nonce was already used');
    }
    checkFingerprints(peer, local, remote);
    const grantJws = json['grant'];
    const grant = await verifyGrant(grantJws, {
      registrarKey: options.registrarKey,
      deviceId: options.deviceId,
      now: now(),
      ...(options.issuer !== undefined ? { issuer: options.issuer } : {}),
    });
    assertGrantBoundTo(grant, sessionKey);
    const transcript: TranscriptInput = {
      deviceId: options.deviceId,
      consoleNonce: peer.nonce,
      deviceNonce: nonce,
      consoleFingerprint: remote,
      deviceFingerprint: local,
      deviceKey,
      sessionKey,
      grant: grant.jws,
    };
    const auth = await authMessage('device', transcript, options.deviceKey);
    return {
      auth,
      finish: (authJson) => {
        checkAuth(authJson, 'console', transcript, sessionKey);
        return { grant, sessionKey };
      },
    };
  });
}
