// Standalone browser client (dist/peerfetch.js, IIFE → `window.peerfetch.PeerFetch`), for a
// plain HTML page on any origin:
//
//   const pf = new peerfetch.PeerFetch({ registrarUrl, email, password });   // or { registrarUrl, token }
//   await pf.connect(deviceId);                 // grant, signaling, DataChannel, verified handshake
//   const res = await pf.fetch('http://localhost:8778/api/hello');   // → the device's upstream
//   await pf.close();
//
// An absolute URL becomes its path and query plus `x-peerfetch-upstream: <origin>` (the
// agent proxies to that origin only if it is allow-listed); a path goes to the agent itself
// (`/_agent/…`) or its default upstream. The device key is pinned on first use (in
// localStorage); a changed key refuses the connection (`DEVICE_KEY_CHANGED`).
import type { PeerFetchInit } from '@peerfetch/peer-http';
import { createBrowserPlatform } from '../platform/browser.js';
import { ApiClient } from '../services/api.js';
import { DeviceSession, type SessionFailure } from '../services/session/device-session.js';
import { devicePins } from '../services/session/pins.js';
import { RegistrarSignaling } from '../services/session/signaling.js';

export const UPSTREAM_HEADER = 'x-peerfetch-upstream';

export type PeerFetchConfig =
  | { registrarUrl: string; email: string; password: string; orgId?: string }
  | { registrarUrl: string; token: string };

export class PeerFetchError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'PeerFetchError';
  }
}

/** Splits a URL for the agent: path + query, and the upstream origin when absolute. */
export function toDeviceRequest(input: string): { path: string; upstream: string | null } {
  if (input.startsWith('/')) return { path: input, upstream: null };
  const url = new URL(input);
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new PeerFetchError('BAD_URL', 'only http(s) URLs or absolute paths are supported');
  }
  return { path: `${url.pathname}${url.search}`, upstream: url.origin };
}

export class PeerFetch {
  private token: string | null;
  private readonly api: ApiClient;
  private readonly platform: ReturnType<typeof createBrowserPlatform>;
  private session: DeviceSession | null = null;

  constructor(private readonly config: PeerFetchConfig) {
    if (!config || typeof config.registrarUrl !== 'string') {
      throw new PeerFetchError('BAD_CONFIG', 'registrarUrl is required');
    }
    this.token = 'token' in config ? config.token : null;
    this.platform = createBrowserPlatform({
      registrarUrl: config.registrarUrl,
      token: () => this.token,
    });
    this.api = new ApiClient(this.platform.http);
  }

  /** The session state (`idle`, …, `verified`, `closed`, `failed`). */
  get state(): string {
    return this.session?.state ?? 'idle';
  }
  /** The verified device key's fingerprint (base32, groups of 4). */
  get deviceKeyFingerprint(): string | null {
    return this.session?.deviceKey?.display ?? null;
  }
  /**
   * Where the last `connect` spent its time: ms from its start to the end of each step
   * (`grant`, `signaling`, `offer`, `answer`, `ice`, `channel`, `verified`).
   */
  get phases(): Record<string, number> {
    return { ...this.session?.phases };
  }
  /** The registrar's id of the last session (as in the audit log), once granted. */
  get sessionId(): string | null {
    return this.session?.sessionId ?? null;
  }
  get failure(): SessionFailure | null {
    return this.session?.failure ?? null;
  }

  /** Signs in if needed, then opens a verified session to `deviceId`. */
  async connect(deviceId: string): Promise<void> {
    await this.close();
    if (this.token === null && 'email' in this.config) {
      const { email, password, orgId } = this.config;
      const res = await this.platform.http.request('/api/auth/login', {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json' },
        body: JSON.stringify({ email, password, ...(orgId ? { orgId } : {}) }),
      });
      const body = (await res.json().catch(() => null)) as { token?: unknown } | null;
      if (!res.ok || typeof body?.token !== 'string') {
        throw new PeerFetchError('SIGN_IN_FAILED', `sign-in failed (${res.status})`);
      }
      this.token = body.token;
    }
    const platform = this.platform;
    const session = new DeviceSession({
      deviceId,
      requestSession: (req) => this.api.requestSession(req),
      openSignaling: () =>
        RegistrarSignaling.open(platform.createWebSocket('/api/signal', ['pf-signal.v1'])),
      createPeerConnection: (c) => platform.createPeerConnection(c),
      pins: devicePins(platform.storage),
    });
    this.session = session;
    await session.connect();
    if (session.state !== 'verified') {
      const f = session.failure;
      throw new PeerFetchError(f?.code ?? f?.reason ?? 'FAILED', f?.message ?? 'connection failed');
    }
  }

  /** `fetch` over the verified session (see the file header for URL handling). */
  fetch(input: string | URL, init: PeerFetchInit = {}): Promise<Response> {
    const http = this.session?.http;
    if (!http || this.session?.state !== 'verified') {
      return Promise.reject(new PeerFetchError('NOT_CONNECTED', 'call connect(deviceId) first'));
    }
    const { path, upstream } = toDeviceRequest(String(input));
    const headers = new Headers(init.headers);
    if (upstream) headers.set(UPSTREAM_HEADER, upstream);
    return http.fetch(path, { ...init, headers });
  }

  /** Round trip over the channel, ms. */
  async ping(): Promise<number> {
    const http = this.session?.http;
    if (!http) throw new PeerFetchError('NOT_CONNECTED', 'call connect(deviceId) first');
    return http.ping();
  }

  async close(): Promise<void> {
    const s = this.session;
    this.session = null;
    await s?.close();
  }
}
