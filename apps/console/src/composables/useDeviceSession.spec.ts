// @vitest-environment node
import { createApp, effectScope } from 'vue';
import { describe, expect, it } from 'vitest';
import { createTestPlatform } from '../platform/testing.js';
import { ApiClient } from '../services/api.js';
import type { Services } from '../services/container.js';
import { servicesKey } from '../services/container.js';
import { MemoryPresenceSource } from '../services/presence.js';
import { answerPeerMedia } from '../services/session/registry.js';
import { DEVICE_ID, fakeDevice } from '../testing/fake-device.js';
import { useDeviceSession } from './useDeviceSession.js';

function setup(media: boolean, script: Parameters<typeof fakeDevice>[0] = {}) {
  const platform = createTestPlatform();
  platform.registerPeerMedia = () => Promise.resolve(media);
  const services: Services = {
    platform,
    api: new ApiClient(platform.http),
    presence: new MemoryPresenceSource(),
  };
  const app = createApp({});
  app.provide(servicesKey, services);
  const device = fakeDevice(script);
  const scope = effectScope();
  const s = app.runWithContext(() => scope.run(() => useDeviceSession(DEVICE_ID, device.options)));
  if (!s) throw new Error('no composable');
  return { s, scope, device };
}

describe('useDeviceSession', () => {
  it('mirrors the session reactively and relays media for the verified session only', async () => {
    const { s, scope, device } = setup(true);
    expect(s.view.state).toBe('idle');
    expect(s.mediaUrl('/_agent/clips/a.mp4')).toBeNull();
    await s.connect();
    expect(s.view).toMatchObject({ state: 'verified', role: 'viewer', firstSight: true });
    expect(s.view.fingerprint).toMatch(/^[A-Z2-7]{4} /);
    const sid = s.view.sessionId;
    expect(s.mediaUrl('/_agent/clips/a.mp4')).toBe(`/peer/${sid}/_agent/clips/a.mp4`);
    const res = await answerPeerMedia({
      sessionId: sid ?? '',
      path: '/_agent/clips/a.mp4',
      method: 'GET',
      headers: [['range', 'bytes=0-']],
    });
    expect(await res?.json()).toEqual({ path: '/_agent/clips/a.mp4', method: 'GET' });
    expect(
      await answerPeerMedia({ sessionId: 'other', path: '/', method: 'GET', headers: [] }),
    ).toBeNull();

    // leaving the view closes the session and withdraws it from the media relay
    scope.stop();
    await new Promise((r) => setTimeout(r, 10));
    expect(device.pcs[0]?.closed).toBe(true);
    expect(
      await answerPeerMedia({ sessionId: sid ?? '', path: '/', method: 'GET', headers: [] }),
    ).toBeNull();
  });

  it('shows a failure, and no media URLs without the relay', async () => {
    const { s, scope } = setup(false, { refuseGrant: true });
    await s.connect();
    expect(s.view.state).toBe('failed');
    expect(s.view.failure?.reason).toBe('GRANT_REFUSED');
    expect(s.mediaUrl('/x')).toBeNull();
    scope.stop();
  });

  it('disconnect closes, connect again reconnects', async () => {
    const { s, scope } = setup(false);
    await s.connect();
    await s.disconnect();
    expect(s.view.state).toBe('closed');
    await s.connect();
    expect(s.view.state).toBe('verified');
    expect(s.view.firstSight).toBe(false);
    scope.stop();
  });
});
