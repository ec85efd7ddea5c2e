import { describe, expect, it } from 'vitest';
import { PeerFetch, PeerFetchError, toDeviceRequest } from './index.js';

describe('standalone PeerFetch', () => {
  it('maps absolute URLs to path + upstream origin, paths to the agent', () => {
    expect(toDeviceRequest('http://localhost:8778/api/hello?x=1')).toEqual({
      path: '/api/hello?x=1',
      upstream: 'http://localhost:8778',
    });
    expect(toDeviceRequest('/_agent/info')).toEqual({ path: '/_agent/info', upstream: null });
    expect(() => toDeviceRequest('ftp://x/y')).toThrow(PeerFetchError);
  });
  it('refuses to fetch before connect and validates its config', async () => {
    const pf = new PeerFetch({ registrarUrl: 'https://registrar.test', token: 't'.repeat(20) });
    expect(pf.state).toBe('idle');
    await expect(pf.fetch('/api/hello')).rejects.toMatchObject({ code: 'NOT_CONNECTED' });
    expect(() => new PeerFetch({} as never)).toThrow(/registrarUrl/);
  });
});
