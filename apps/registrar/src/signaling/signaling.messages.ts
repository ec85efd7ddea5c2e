// WebSocket signaling messages between a console and the registrar (docs/signaling.md).
import { z } from 'zod';
import { ED25519_X_PATTERN, ED25519_X_MESSAGE } from '../enrollment/enrollment.dto.js';
import { GRANT_ROLES } from '../grants/grants.types.js';
import type { SessionTicket } from '../sessions/sessions.service.js';

const id = z.string().uuid();
const sdp = z
  .string()
  .min(1)
  .max(32 * 1024);
const candidate = z.string().max(2048);
/**
 * Media id of the candidate. The agent's contract requires a string; browsers may report
 * `sdpMid: null`, which (peerfetch sessions having one m-section, the data channel's
 * `a=mid:0`) is forwarded as "0".
 */
const mid = z
  .string()
  .max(64)
  .nullable()
  .transform((m) => m ?? '0');

/** ICE path of a selected candidate pair: as indirect as its most indirect end. */
const pathType = z.enum(['host', 'srflx', 'prflx', 'relay', 'unknown']);

/** The console's ephemeral session public key (as POST /api/sessions takes it). */
const sessionKey = z.object({
  kty: z.literal('OKP'),
  crv: z.literal('Ed25519'),
  x: z.string().regex(ED25519_X_PATTERN, ED25519_X_MESSAGE),
});

export const consoleMessageSchema = z.discriminatedUnion('type', [
  z.object({
    /**
     * A session request on the socket: the same checks, grant and audit entry as
     * POST /api/sessions, answered by `ticket` (or `error`) with the same requestId.
     */
    type: z.literal('request'),
    requestId: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'requestId: 1–64 of [A-Za-z0-9_-]'),
    deviceId: id,
    sessionKey,
    role: z.enum(GRANT_ROLES).optional(),
  }),
  z.object({
    type: z.literal('offer'),
    deviceId: id,
    /** The grant from POST /api/sessions; its `sid` is the session id. */
    grant: z.string().min(1).max(4096),
    sdp,
  }),
  z.object({ type: z.literal('candidate'), sessionId: id, candidate, mid }),
  z.object({ type: z.literal('hangup'), sessionId: id, reason: z.string().max(200).optional() }),
  z.object({
    type: z.literal('connected'),
    sessionId: id,
    /** ICE path of the selected candidate pair (audit only). */
    path: pathType,
  }),
]);
export type ConsoleMessage = z.infer<typeof consoleMessageSchema>;

/** What an agent may publish on signal/out (relayed to the console owning the session). */
export const agentMessageSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('answer'), sessionId: id, sdp }),
  z.object({ type: z.literal('candidate'), sessionId: id, candidate, mid }),
  z.object({ type: z.literal('hangup'), sessionId: id, reason: z.string().max(200).optional() }),
  z.object({ type: z.literal('error'), sessionId: id, reason: z.string().max(200) }),
  z.object({
    type: z.literal('connected'),
    sessionId: id,
    /** The agent's view of the selected pair (audit only, not relayed). */
    path: pathType,
    /** Candidate types, agent end first, e.g. "srflx→relay". */
    pair: z.string().regex(/^[a-z]{1,8}→[a-z]{1,8}$/),
  }),
]);
export type AgentMessage = z.infer<typeof agentMessageSchema>;

export type ServerMessage =
  | AgentMessage
  | { type: 'ready'; userId: string; orgId: string }
  | { type: 'session'; sessionId: string; deviceId: string }
  | ({ type: 'ticket'; requestId: string } & SessionTicket)
  | { type: 'presence'; deviceId: string; status: 'online' | 'offline'; ts: number }
  | { type: 'error'; code: string; message: string; sessionId?: string; requestId?: string };

/** Token bucket: `capacity` messages at once, refilled at `perSecond`. */
export class TokenBucket {
  private tokens: number;
  private last: number;
  constructor(
    private readonly capacity: number,
    private readonly perSecond: number,
    private readonly now: () => number = Date.now,
  ) {
    this.tokens = capacity;
    this.last = now();
  }

  take(): boolean {
    const t = this.now();
    this.tokens = Math.min(this.capacity, this.tokens + ((t - this.last) / 1000) * this.perSecond);
    this.last = t;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}
