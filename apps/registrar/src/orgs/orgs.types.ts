export interface IceServer {
  urls: string | string[];
  username?: string;
  credential?: string;
}

export interface OrgSettings {
  /** STUN servers handed to both peers of a session (TURN: see TURN_FROM_REGISTRAR). */
  iceServers: IceServer[];
}

export const DEFAULT_ORG_SETTINGS: OrgSettings = { iceServers: [] };

/** Why organization settings refuse TURN servers and static credentials. */
export const TURN_FROM_REGISTRAR =
  'TURN servers are configured on the registrar (TURN_URLS + TURN_SECRET), which issues ' +
  'per-session credentials; organization settings hold STUN servers only';
