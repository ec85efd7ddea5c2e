export type DeviceStatus = 'online' | 'offline' | 'revoked';

/** The fields authorization reads (see DevicesRepository.authzTarget). */
export interface DeviceAuthzTarget {
  id: string;
  tags: string[];
  /** Current as to 'revoked'; online/offline may lag (presence is not a permission). */
  status: DeviceStatus;
}

export interface DeviceView {
  id: string;
  orgId: string;
  name: string;
  tags: string[];
  publicKey: unknown;
  keyFingerprint: string;
  agentVersion: string;
  status: DeviceStatus;
  lastSeenAt: string | null;
  metrics: unknown;
  revokedAt: string | null;
  createdAt: string;
  updatedAt: string;
}

export interface DeviceFilter {
  orgId: string;
  tag?: string | undefined;
  status?: DeviceStatus | undefined;
  search?: string | undefined;
  /** When set, only devices matching these ids or tags (a member's grants). */
  visibleTo?: { deviceIds: string[]; tags: string[] } | undefined;
  limit: number;
  offset: number;
}

export interface NewDevice {
  orgId: string;
  name: string;
  tags: string[];
  publicKeyJwk: object;
  keyFingerprint: string;
  agentVersion: string;
  mqttPasswordHash: string;
}
