// Test double for the platform seam: in-memory storage, an HTTP handler you supply
// (e.g. the fake registrar), scripted media queries, a recording clipboard.
import type { KeyValueStorage, MediaQuery, Platform, SocketLike } from './types.js';

export type FetchHandler = (request: Request) => Response | Promise<Response>;

export class MemoryStorage implements KeyValueStorage {
  readonly data = new Map<string, string>();
  get(key: string) {
    return this.data.get(key) ?? null;
  }
  set(key: string, value: string) {
    this.data.set(key, value);
  }
  remove(key: string) {
    this.data.delete(key);
  }
}

export class FakeMediaQuery implements MediaQuery {
  private readonly listeners = new Set<(matches: boolean) => void>();
  constructor(public matches = false) {}
  subscribe(listener: (matches: boolean) => void) {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
  set(matches: boolean) {
    this.matches = matches;
    for (const l of this.listeners) l(matches);
  }
}

export interface TestPlatform extends Platform {
  readonly storage: MemoryStorage;
  readonly copied: string[];
  readonly requests: Request[];
  readonly mediaQueries: Map<string, FakeMediaQuery>;
  clock: number;
}

export function createTestPlatform(
  handler: FetchHandler = () => new Response(null, { status: 404 }),
  baseUrl = 'https://registrar.test',
): TestPlatform {
  const copied: string[] = [];
  const requests: Request[] = [];
  const mediaQueries = new Map<string, FakeMediaQuery>();
  const platform: TestPlatform = {
    appOrigin: 'https://console.test',
    storage: new MemoryStorage(),
    copied,
    requests,
    mediaQueries,
    clock: 1_750_000_000_000,
    http: {
      baseUrl,
      async request(path, init) {
        const request = new Request(`${baseUrl}${path}`, init);
        requests.push(request.clone());
        return handler(request);
      },
    },
    createWebSocket(): SocketLike {
      throw new Error('createTestPlatform: no WebSocket in unit tests');
    },
    clipboard: {
      writeText(text) {
        copied.push(text);
        return Promise.resolve();
      },
    },
    media(query) {
      let mq = mediaQueries.get(query);
      if (!mq) {
        mq = new FakeMediaQuery(false);
        mediaQueries.set(query, mq);
      }
      return mq;
    },
    createPeerConnection() {
      throw new Error('createTestPlatform: no RTCPeerConnection in unit tests');
    },
    registerPeerMedia: () => Promise.resolve(false),
    now: () => platform.clock,
  };
  return platform;
}
