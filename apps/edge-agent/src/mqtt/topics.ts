// MQTT topics and payloads shared with the registrar (contract in the helper brief /
// docs): prefix `pf/v1/`, device id = MQTT username.
import { z } from 'zod';

export const TOPIC_PREFIX = 'pf/v1/dev';

export function deviceTopics(deviceId: string) {
  const base = `${TOPIC_PREFIX}/${deviceId}`;
  return {
    status: `${base}/status`,
    heartbeat: `${base}/heartbeat`,
    signalIn: `${base}/signal/in`,
    signalOut: `${base}/signal/out`,
    audit: `${base}/audit`,
  } as const;
}

export type DeviceTopics = ReturnType<typeof deviceTopics>;

export interface StatusPayload {
  state: 'online' | 'offline';
  agentVersion: string;
  ts: number;
}

const sessionId = z.string().min(1).max(128);

export const iceServerSchema = z.object({
  urls: z.union([z.string().min(1), z.array(z.string().min(1)).min(1).max(8)]),
  username: z.string().max(512).optional(),
  credential: z.string().max(512).optional(),
});

/** Registrar → agent. Anything that does not parse is dropped (and logged). */
export const signalInSchema = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('offer'),
    sessionId,
    sdp: z
      .string()
      .min(1)
      .max(64 * 1024),
    grant: z
      .string()
      .min(1)
      .max(16 * 1024),
    iceServers: z.array(iceServerSchema).max(16).default([]),
  }),
  z.object({
    type: z.literal('candidate'),
    sessionId,
    candidate: z.string().max(2048),
    mid: z.string().max(64),
  }),
  z.object({
    type: z.literal('hangup'),
    sessionId,
    reason: z.string().max(256).optional(),
  }),
]);
export type SignalIn = z.infer<typeof signalInSchema>;

/** Agent → registrar. */
/** ICE path of a session's selected candidate pair: as indirect as its most indirect end. */
export type PathType = 'host' | 'srflx' | 'prflx' | 'relay' | 'unknown';

export type SignalOut =
  | { type: 'answer'; sessionId: string; sdp: string }
  | {
      type: 'connected';
      sessionId: string;
      path: PathType;
      /** Candidate types of the selected pair, this end first (e.g. "srflx→relay"). */
      pair: string;
    }
  | { type: 'candidate'; sessionId: string; candidate: string; mid: string }
  | { type: 'hangup' | 'error'; sessionId: string; reason: string };

export type ParsedSignal = { ok: true; message: SignalIn } | { ok: false; reason: string };

/** Parses a signal/in payload; never throws. The reason names fields, never values. */
export function parseSignalIn(payload: Uint8Array): ParsedSignal {
  let data: unknown;
  try {
    data = JSON.parse(Buffer.from(payload).toString('utf8'));
  } catch {
    return { ok: false, reason: 'not JSON' };
  }
  const result = signalInSchema.safeParse(data);
  if (!result.success) {
    return {
      ok: false,
      reason: result.error.issues
        .map((i) => `${i.path.map(String).join('.') || '(root)'}: ${i.code}`)
        .join('; '),
    };
  }
  return { ok: true, message: result.data };
}
