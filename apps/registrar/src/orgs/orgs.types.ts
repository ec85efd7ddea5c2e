export interface IceServer {
  urls: string | string[];
  username?: string;
  credential?: string;
}

export interface OrgSettings {
  /** STUN/TURN servers handed to both peers of a session. */
  iceServers: IceServer[];
}

export const DEFAULT_ORG_SETTINGS: OrgSettings = { iceServers: [] };
