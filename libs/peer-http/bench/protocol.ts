// Messages between the bench (parent) and its agent process (child, over IPC).
import type { SignalMessage } from '../test/webrtc/browser/page.js';

/**
 * What the agent does with a channel once it opens: raw echo / send, the peer-http fetch-style
 * server, or the same routes served with the core API (no `Request`/`Response`).
 */
export type AgentMode = 'raw' | 'peer-http' | 'core';

export type ToAgent =
  | { t: 'signal'; session: number; mode: AgentMode; message: SignalMessage }
  | { t: 'close'; session: number }
  | { t: 'rss-start' }
  | { t: 'cpu' }
  | { t: 'rss-stop' }
  | { t: 'exit' };

export type FromAgent =
  | { t: 'ready'; httpPort: number }
  | { t: 'signal'; session: number; message: SignalMessage }
  | { t: 'open'; session: number }
  | { t: 'rss'; baseline: number; peak: number; samples: number }
  /** process.cpuUsage() of the agent, µs. */
  | { t: 'cpu'; user: number; system: number }
  | { t: 'error'; message: string };

/**
 * Raw-channel commands (first byte): `G` + float64 n → the agent sends n bytes back in
 * {@link RAW_CHUNK}-byte messages with bufferedAmount backpressure; anything else is echoed.
 */
export const RAW_SEND = 0x47;
/**
 * `D` + float64 µs → the agent keeps its thread busy that long, then echoes the message: a
 * ping-pong whose responder takes as long as a request handler would (docs/performance.md,
 * "the cost of a late reply").
 */
export const RAW_LATE_ECHO = 0x44;
export const RAW_CHUNK = 64 * 1024;
/** Raw sender's backpressure: stop above HIGH, resume at LOW (the figures FACTS.md used). */
export const RAW_HIGH_WATER = 4 * 1024 * 1024;
export const RAW_LOW_WATER = 1024 * 1024;

export function rawSendCommand(bytes: number): Uint8Array {
  const message = new Uint8Array(9);
  message[0] = RAW_SEND;
  new DataView(message.buffer).setFloat64(1, bytes);
  return message;
}

export function rawLateEchoCommand(micros: number): Uint8Array {
  const message = new Uint8Array(9);
  message[0] = RAW_LATE_ECHO;
  new DataView(message.buffer).setFloat64(1, micros);
  return message;
}

/**
 * peer-http session options for both sides of the bench, from BENCH_PEER_OPTIONS (JSON, e.g.
 * `{"sendHighWaterMark":4194304}`); the defaults when unset.
 */
export function benchPeerOptions(): Record<string, number> {
  const raw = process.env['BENCH_PEER_OPTIONS'];
  if (raw === undefined || raw === '') return {};
  const parsed: unknown = JSON.parse(raw);
  if (typeof parsed !== 'object' || parsed === null) {
    throw new Error('BENCH_PEER_OPTIONS must be a JSON object');
  }
  const out: Record<string, number> = {};
  for (const [key, value] of Object.entries(parsed)) {
    if (typeof value !== 'number') throw new Error(`BENCH_PEER_OPTIONS.${key} must be a number`);
    out[key] = value;
  }
  return out;
}
