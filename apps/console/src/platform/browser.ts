import { registerPeerMedia } from './peer-media.js';
import type { KeyValueStorage, MediaQuery, Platform, SocketLike } from './types.js';

export interface BrowserPlatformOptions {
  /** Registrar base URL; defaults to the page's origin (console served by the registrar). */
  registrarUrl?: string;
  /**
   * Bearer token for a page on another origin (the standalone client): sent as
   * `Authorization` on REST calls and as the `bearer.<token>` WebSocket subprotocol, with
   * cookies omitted. Without it, the console uses its same-origin session cookie.
   */
  token?: () => string | null;
}

/** Storage that degrades to memory when localStorage is unavailable (private mode, quota). */
function browserStorage(): KeyValueStorage {
  const memory = new Map<string, string>();
  const ls = (() => {
    try {
      return window.localStorage;
    } catch {
      return null;
    }
  })();
  return {
    get(key) {
      try {
        return ls ? ls.getItem(key) : (memory.get(key) ?? null);
      } catch {
        return memory.get(key) ?? null;
      }
    },
    set(key, value) {
      memory.set(key, value);
      try {
        ls?.setItem(key, value);
      } catch {
        // Quota or privacy mode: the in-memory copy still serves this tab.
      }
    },
    remove(key) {
      memory.delete(key);
      try {
        ls?.removeItem(key);
      } catch {
        // ignore
      }
    },
  };
}

function browserMedia(query: string): MediaQuery {
  const mql = window.matchMedia(query);
  return {
    get matches() {
      return mql.matches;
    },
    subscribe(listener) {
      const handler = (e: MediaQueryListEvent) => listener(e.matches);
      mql.addEventListener('change', handler);
      return () => mql.removeEventListener('change', handler);
    },
  };
}

export function createBrowserPlatform(options: BrowserPlatformOptions = {}): Platform {
  const baseUrl = (options.registrarUrl ?? window.location.origin).replace(/\/+$/, '');
  return {
    appOrigin: window.location.origin,
    storage: browserStorage(),
    http: {
      baseUrl,
      request(path, init) {
        const token = options.token?.();
        if (!token) return window.fetch(`${baseUrl}${path}`, { credentials: 'include', ...init });
        const headers = new Headers(init?.headers);
        headers.set('authorization', `Bearer ${token}`);
        return window.fetch(`${baseUrl}${path}`, { ...init, credentials: 'omit', headers });
      },
    },
    createWebSocket(path, protocols): SocketLike {
      const url = new URL(path, `${baseUrl}/`);
      url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
      const token = options.token?.();
      return new window.WebSocket(url, [
        ...(protocols ?? []),
        ...(token ? [`bearer.${token}`] : []),
      ]);
    },
    clipboard: {
      writeText: (text) => window.navigator.clipboard.writeText(text),
    },
    media: browserMedia,
    createPeerConnection: (config) => new window.RTCPeerConnection(config),
    registerPeerMedia,
    now: () => Date.now(),
  };
}
