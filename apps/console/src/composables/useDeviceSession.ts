// One device session for a view: wraps DeviceSession in reactive state, measures RTT while
// verified, registers the session for the media relay, and closes it with the view.
import { onScopeDispose, reactive, ref } from 'vue';
import { useServices } from '../services/container.js';
import {
  DeviceSession,
  type DeviceSessionOptions,
  type SessionFailure,
  type SessionState,
} from '../services/session/device-session.js';
import { devicePins } from '../services/session/pins.js';
import { ensurePeerMedia, trackSession } from '../services/session/registry.js';
import { RegistrarSignaling, type PathType } from '../services/session/signaling.js';
import type { GrantRole } from '../services/api-types.js';

export const RTT_INTERVAL_MS = 5_000;

export interface DeviceSessionView {
  state: SessionState;
  failure: SessionFailure | null;
  sessionId: string | null;
  role: GrantRole | null;
  path: PathType | null;
  rttMs: number | null;
  fingerprint: string | null;
  firstSight: boolean;
}

export function useDeviceSession(
  deviceId: string,
  overrides: Partial<Omit<DeviceSessionOptions, 'deviceId'>> = {},
) {
  const { api, platform } = useServices();
  const session = new DeviceSession({
    deviceId,
    requestSession: (req) => api.requestSession(req),
    openSignaling: () =>
      RegistrarSignaling.open(platform.createWebSocket('/api/signal', ['pf-signal.v1'])),
    createPeerConnection: (config) => platform.createPeerConnection(config),
    pins: devicePins(platform.storage),
    ...overrides,
  });
  const view = reactive<DeviceSessionView>({
    state: 'idle',
    failure: null,
    sessionId: null,
    role: null,
    path: null,
    rttMs: null,
    fingerprint: null,
    firstSight: false,
  });
  /** Whether `<video src="/peer/…">` URLs work on this host. */
  const mediaReady = ref(false);
  let untrack: (() => void) | undefined;
  let timer: ReturnType<typeof setInterval> | undefined;

  const sync = (): void => {
    view.state = session.state;
    view.failure = session.failure;
    view.sessionId = session.sessionId;
    view.role = session.role;
    view.path = session.path;
    view.rttMs = session.rttMs;
    view.fingerprint = session.deviceKey?.display ?? null;
    view.firstSight = session.firstSight;
  };
  const off = session.on((event) => {
    sync();
    if (event.type !== 'state') return;
    if (event.state === 'verified' && session.sessionId) {
      untrack = trackSession(session.sessionId, session);
      timer = setInterval(() => void session.refreshStats(), RTT_INTERVAL_MS);
    } else if (event.state === 'closed' || event.state === 'failed') {
      untrack?.();
      clearInterval(timer);
    }
  });

  async function connect(): Promise<void> {
    mediaReady.value = await ensurePeerMedia(platform);
    await session.connect();
  }
  async function trustNewKey(): Promise<void> {
    await session.trustNewKey();
  }
  async function disconnect(): Promise<void> {
    await session.close();
    sync();
  }
  /** URL a media element can load for a device path (null until the relay is ready). */
  function mediaUrl(path: string): string | null {
    return mediaReady.value && view.sessionId && view.state === 'verified'
      ? `/peer/${view.sessionId}${path}`
      : null;
  }

  onScopeDispose(() => {
    off();
    untrack?.();
    clearInterval(timer);
    void session.close();
  });

  return { view, session, mediaReady, connect, disconnect, trustNewKey, mediaUrl };
}
