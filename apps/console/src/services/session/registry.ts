// Open device sessions by session id, for the media relay: the service worker's
// `/peer/<sessionId>/<path>` requests are answered only for a verified session of this
// page, GET/HEAD only (media), with the forwarded headers only.
import type { Platform, PeerMediaRequest } from '../../platform/index.js';
import type { DeviceSession } from './device-session.js';

const sessions = new Map<string, DeviceSession>();

export function trackSession(sessionId: string, session: DeviceSession): () => void {
  sessions.set(sessionId, session);
  return () => {
    if (sessions.get(sessionId) === session) sessions.delete(sessionId);
  };
}

export async function answerPeerMedia(request: PeerMediaRequest): Promise<Response | null> {
  const http = sessions.get(request.sessionId)?.http;
  if (!http) return null;
  return http.fetch(request.path, { method: request.method, headers: request.headers });
}

const registered = new WeakMap<Platform, Promise<boolean>>();

/** Registers the media relay once per platform; false when the host has none. */
export function ensurePeerMedia(platform: Platform): Promise<boolean> {
  let ready = registered.get(platform);
  if (!ready) {
    ready = platform.registerPeerMedia(answerPeerMedia).catch((e: unknown) => {
      console.warn('media relay unavailable:', e);
      return false;
    });
    registered.set(platform, ready);
  }
  return ready;
}
