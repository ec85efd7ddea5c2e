import { afterEach, describe, expect, it, vi } from 'vitest';
import { createBrowserPlatform } from './browser.js';

afterEach(() => {
  vi.unstubAllGlobals();
  window.localStorage.clear();
});

describe('createBrowserPlatform', () => {
  it('stores strings in localStorage', () => {
    const p = createBrowserPlatform();
    p.storage.set('k', 'v');
    expect(window.localStorage.getItem('k')).toBe('v');
    expect(p.storage.get('k')).toBe('v');
    p.storage.remove('k');
    expect(p.storage.get('k')).toBeNull();
  });

  it('sends registrar requests with credentials to the configured base URL', async () => {
    const fetch = vi.fn(() => Promise.resolve(new Response('{}')));
    vi.stubGlobal('fetch', fetch);
    const p = createBrowserPlatform({ registrarUrl: 'https://reg.example.com/' });
    expect(p.http.baseUrl).toBe('https://reg.example.com');
    await p.http.request('/api/devices', { method: 'GET' });
    expect(fetch).toHaveBeenCalledWith('https://reg.example.com/api/devices', {
      credentials: 'include',
      method: 'GET',
    });
  });

  it('defaults to the page origin and opens WebSockets with the matching scheme', () => {
    const urls: string[] = [];
    vi.stubGlobal(
      'WebSocket',
      class {
        constructor(url: URL) {
          urls.push(url.toString());
        }
      },
    );
    const p = createBrowserPlatform();
    expect(p.http.baseUrl).toBe(window.location.origin);
    createBrowserPlatform({ registrarUrl: 'https://reg.example.com' }).createWebSocket('/api/ws');
    createBrowserPlatform({ registrarUrl: 'http://127.0.0.1:8790' }).createWebSocket('/api/ws');
    expect(urls).toEqual(['wss://reg.example.com/api/ws', 'ws://127.0.0.1:8790/api/ws']);
  });
});
