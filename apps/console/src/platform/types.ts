// The platform seam: everything the console needs from its host (browser today; a test
// double in unit tests; a native shell later) goes through these interfaces. Code outside
// src/platform/ must not touch localStorage, fetch, WebSocket, RTCPeerConnection,
// navigator or matchMedia directly (lint-enforced in apps/console/eslint.config.mjs).

/** Synchronous string key/value storage (localStorage in a browser). */
export interface KeyValueStorage {
  get(key: string): string | null;
  set(key: string, value: string): void;
  remove(key: string): void;
}

/** HTTP to the registrar. `path` is absolute on the registrar (`/api/...`). */
export interface RegistrarHttp {
  /** The registrar's base URL as seen by devices (used in enrollment commands). */
  readonly baseUrl: string;
  request(path: string, init?: RequestInit): Promise<Response>;
}

/** The subset of the WebSocket API the console relies on. */
export interface SocketLike {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  addEventListener(
    type: 'open' | 'close' | 'error' | 'message',
    listener: (event: Event) => void,
  ): void;
  removeEventListener(
    type: 'open' | 'close' | 'error' | 'message',
    listener: (event: Event) => void,
  ): void;
}

export interface Clipboard {
  writeText(text: string): Promise<void>;
}

/** A live boolean media query (`(prefers-color-scheme: dark)`, `(max-width: 639px)`). */
export interface MediaQuery {
  readonly matches: boolean;
  /** Calls `listener` on every change; returns an unsubscribe function. */
  subscribe(listener: (matches: boolean) => void): () => void;
}

/** A media request relayed by the service worker (`/peer/<sessionId><path>`). */
export interface PeerMediaRequest {
  sessionId: string;
  /** Path and query on the device. */
  path: string;
  method: 'GET' | 'HEAD';
  /** Only range, if-range and accept. */
  headers: [string, string][];
}
/** Answers a relayed media request, or null when no open session has that id. */
export type PeerMediaHandler = (request: PeerMediaRequest) => Promise<Response | null>;

export interface Platform {
  readonly storage: KeyValueStorage;
  readonly http: RegistrarHttp;
  /**
   * Opens a WebSocket to a registrar path (`/api/...`), resolved against its base URL.
   * `protocols`: subprotocols (the standalone client authenticates with `bearer.<token>`).
   */
  createWebSocket(path: string, protocols?: string[]): SocketLike;
  readonly clipboard: Clipboard;
  media(query: string): MediaQuery;
  /** Direct device sessions. */
  createPeerConnection(config: RTCConfiguration): RTCPeerConnection;
  /**
   * Serves `/peer/<sessionId>/<path>` URLs to media elements (a service worker relaying to
   * `handler`). Resolves false when the host cannot (no service workers).
   */
  registerPeerMedia(handler: PeerMediaHandler): Promise<boolean>;
  /** Milliseconds since the epoch. */
  now(): number;
  /** The console's own origin (`https://host:port`), for links people share (invitations). */
  readonly appOrigin: string;
}
