// The ICE servers one party of one session gets: the organization's STUN servers plus, when
// the registrar has TURN configured, its TURN servers with credentials minted for this
// session and party alone (TURN REST API, coturn `use-auth-secret`: username
// `<expiry>:<sessionId>.<party>`, password HMAC-SHA1(secret, username)). They expire with the
// session's grant, so a leaked credential is good for one session's lifetime at most, and
// coturn's log names the session and the side that allocated the relay.
import { createTurnCredentials } from '@peerfetch/crypto';
import type { RegistrarConfig } from '../config/config.js';
import type { IceServer } from '../orgs/orgs.types.js';

export type IceParty = 'console' | 'device';

/** Seconds TURN credentials outlive the grant (clock skew between registrar and TURN). */
export const TURN_CREDENTIAL_SLACK_S = 60;

export function sessionIceServers(input: {
  orgServers: readonly IceServer[];
  turn: RegistrarConfig['turn'];
  sessionId: string;
  party: IceParty;
  /** The grant's expiry (ms since the epoch). */
  expiresAt: number;
  now?: number;
}): IceServer[] {
  const servers = [...input.orgServers];
  if (!input.turn) return servers;
  const now = input.now ?? Date.now();
  const ttlSeconds = Math.max(
    1,
    Math.ceil((input.expiresAt - now) / 1000) + TURN_CREDENTIAL_SLACK_S,
  );
  const { username, credential } = createTurnCredentials({
    secret: input.turn.secret,
    userId: `${input.sessionId}.${input.party}`,
    ttlSeconds,
    now,
  });
  servers.push({ urls: [...input.turn.urls], username, credential });
  return servers;
}
