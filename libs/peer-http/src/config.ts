import { MAX_INT31 } from './frame.js';

/** Session settings. The first five are advertised to the peer in HELLO (PROTOCOL.md §4). */
export interface PeerHttpConfig {
  /** Largest frame payload accepted, bytes (advertised; clamped to the channel's max message size − 10). */
  maxFrameSize: number;
  /** Largest request/response header block accepted, bytes (advertised; over it: 431). */
  maxHeaderBytes: number;
  /** Streams the peer may have open towards us at once (advertised). */
  maxConcurrentStreams: number;
  /** Receive window per stream, bytes (advertised). */
  initialStreamWindow: number;
  /** Receive window for the whole connection, bytes (advertised). */
  initialConnectionWindow: number;
  /** Stop sending DATA while the transport's `bufferedAmount` is above this, bytes. */
  sendHighWaterMark: number;
  /** Resume when `bufferedAmount` falls to this (the transport's low threshold), bytes. */
  sendLowWaterMark: number;
  /** Send a PING after this long without receiving anything, ms (0: never). */
  keepAliveInterval: number;
  /**
   * Close with IDLE_TIMEOUT after this long without receiving anything, ms (0: never).
   * Checked on a timer a third of the shorter of the two periods: the close (and a
   * keepalive PING) comes up to that much later, never earlier.
   */
  idleTimeout: number;
  /** Default time from sending a request to its response headers, ms (0: no limit). */
  requestTimeout: number;
  /** Origin that request targets are resolved against on the serving side. */
  baseUrl: string;
}

export const defaultConfig: Readonly<PeerHttpConfig> = Object.freeze({
  maxFrameSize: 65536,
  maxHeaderBytes: 16384,
  maxConcurrentStreams: 100,
  // 4 MiB of credit per stream, and 4 MiB queued in the channel, as the raw-channel sender
  // the bench compares against: a reader (or sender) that is descheduled for a few ms on a
  // busy machine must not drain the pipe (docs/performance.md)
  initialStreamWindow: 4 * 1024 * 1024,
  initialConnectionWindow: 16 * 1024 * 1024,
  sendHighWaterMark: 4 * 1024 * 1024,
  sendLowWaterMark: 1024 * 1024,
  keepAliveInterval: 15_000,
  idleTimeout: 45_000,
  requestTimeout: 30_000,
  baseUrl: 'http://peer',
});

/** Limits the HELLO fields must satisfy (PROTOCOL.md §4). */
export const LIMITS = {
  maxFrameSize: [16384, 0xffffff],
  maxHeaderBytes: [1024, 0xffffff],
  maxConcurrentStreams: [1, MAX_INT31],
  initialStreamWindow: [65536, MAX_INT31],
  initialConnectionWindow: [65536, MAX_INT31],
} as const;

function checkInt(name: string, value: unknown, min: number, max: number): void {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new RangeError(
      `peer-http config: ${name} must be an integer in [${min}, ${max}], got ${String(value)}`,
    );
  }
}

/** Merges `options` over {@link defaultConfig} and checks every field; throws RangeError. */
export function verifyConfig(options: Partial<PeerHttpConfig> = {}): PeerHttpConfig {
  const defined = Object.fromEntries(
    Object.entries(options).filter(([, value]) => value !== undefined),
  ) as Partial<PeerHttpConfig>;
  const config: PeerHttpConfig = { ...defaultConfig, ...defined };
  for (const [name, [min, max]] of Object.entries(LIMITS)) {
    checkInt(name, config[name as keyof typeof LIMITS], min, max);
  }
  if (config.maxHeaderBytes > config.maxFrameSize) {
    throw new RangeError('peer-http config: maxHeaderBytes must not exceed maxFrameSize');
  }
  checkInt('sendHighWaterMark', config.sendHighWaterMark, 1, Number.MAX_SAFE_INTEGER);
  checkInt('sendLowWaterMark', config.sendLowWaterMark, 0, config.sendHighWaterMark);
  checkInt('keepAliveInterval', config.keepAliveInterval, 0, MAX_INT31);
  checkInt('idleTimeout', config.idleTimeout, 0, MAX_INT31);
  checkInt('requestTimeout', config.requestTimeout, 0, MAX_INT31);
  let base: URL;
  try {
    base = new URL(config.baseUrl);
  } catch {
    throw new RangeError(
      `peer-http config: baseUrl must be an absolute URL, got ${config.baseUrl}`,
    );
  }
  if (base.pathname !== '/' || base.search || base.hash) {
    throw new RangeError(
      'peer-http config: baseUrl must be an origin (no path, query or fragment)',
    );
  }
  return { ...config, baseUrl: base.origin };
}
