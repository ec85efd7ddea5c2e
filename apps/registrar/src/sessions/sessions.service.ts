import { randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import {
  CryptoError,
  type Ed25519PublicJwk,
  signGrant,
  DEFAULT_GRANT_TTL_S,
} from '@peerfetch/crypto';
import { AuditService } from '../audit/audit.service.js';
import { TtlCache } from '../common/ttl-cache.js';
import type { Principal } from '../auth/auth.types.js';
import { DomainError, ErrorCode, forbidden, notFound } from '../common/errors.js';
import { CONFIG, type RegistrarConfig } from '../config/config.js';
import { DevicesRepository } from '../devices/devices.repository.js';
import { GrantsService } from '../grants/grants.service.js';
import { type GrantRole, grantRoleAtLeast } from '../grants/grants.types.js';
import { REGISTRAR_KEY, type RegistrarKey } from '../keys/registrar-key.js';
import { OrgsService } from '../orgs/orgs.service.js';
import type { IceServer } from '../orgs/orgs.types.js';
import { sessionIceServers } from './ice-servers.js';

export interface SessionTicket {
  sessionId: string;
  deviceId: string;
  role: GrantRole;
  /** JWS signed by the registrar key, bound to the console's session key (cnf.jkt). */
  grant: string;
  expiresAt: string;
  iceServers: IceServer[];
}

/** How many unused grants `SessionsService` remembers having signed. */
const ISSUED_MAX = 10_000;

@Injectable()
export class SessionsService {
  /**
   * Grants this replica signed and no offer has used yet, by signature (base64url) →
   * signing input: an offer carrying exactly those bytes needs no signature check (the
   * replica made it). An entry evicted, expired or used once falls back to verification.
   */
  private readonly issued = new TtlCache<string>(DEFAULT_GRANT_TTL_S * 1000, ISSUED_MAX);

  constructor(
    private readonly devices: DevicesRepository,
    private readonly grants: GrantsService,
    private readonly orgs: OrgsService,
    private readonly audit: AuditService,
    @Inject(CONFIG) private readonly config: RegistrarConfig,
    @Inject(REGISTRAR_KEY) private readonly key: RegistrarKey,
  ) {}

  /**
   * A session to a device: checks the caller's grant (a viewer cannot obtain an operator
   * grant), signs a short-lived grant bound to the console's session key, and returns it
   * with the org's STUN servers and, when TURN is configured, TURN credentials minted for
   * this session's console (the device gets its own with the offer).
   */
  async request(
    p: Principal,
    input: { deviceId: string; sessionKey: Ed25519PublicJwk; role?: GrantRole | undefined },
    sourceIp: string | null,
  ): Promise<SessionTicket> {
    const device = await this.devices.authzTarget(p.orgId, input.deviceId);
    const effective = device ? await this.grants.effectiveRole(p, device) : null;
    if (!device || !effective) throw notFound('device');
    const role = input.role ?? effective;
    if (!grantRoleAtLeast(effective, role)) {
      await this.audit.record({
        orgId: p.orgId,
        actorType: 'user',
        actorId: p.userId,
        action: 'session.refused',
        targetType: 'device',
        targetId: device.id,
        details: { requested: role, held: effective },
        sourceIp,
      });
      throw forbidden(`your grant on this device is ${effective}, not ${role}`);
    }
    if (device.status === 'revoked') {
      throw new DomainError(ErrorCode.KEY_REVOKED, 'this device has been revoked');
    }
    const sessionId = randomUUID();
    const now = Date.now();
    let grant: string;
    try {
      grant = await signGrant(
        {
          issuer: this.config.registrarId,
          userId: p.userId,
          deviceId: device.id,
          orgId: p.orgId,
          role,
          sessionKey: input.sessionKey,
          sessionId,
          ttlSeconds: DEFAULT_GRANT_TTL_S,
          now,
        },
        this.key.signer,
      );
    } catch (error) {
      if (error instanceof CryptoError) {
        throw new DomainError(ErrorCode.VALIDATION_FAILED, `sessionKey rejected: ${error.message}`);
      }
      throw error;
    }
    const dot = grant.lastIndexOf('.');
    this.issued.set(grant.slice(dot + 1), grant.slice(0, dot));
    const expiresAt = now + DEFAULT_GRANT_TTL_S * 1000;
    const iceServers = sessionIceServers({
      orgServers: (await this.orgs.settings(p.orgId)).iceServers,
      turn: this.config.turn,
      sessionId,
      party: 'console',
      expiresAt,
      now,
    });
    await this.audit.record({
      orgId: p.orgId,
      actorType: 'user',
      actorId: p.userId,
      action: 'session.request',
      targetType: 'device',
      targetId: device.id,
      details: { sessionId, role },
      sourceIp,
    });
    return {
      sessionId,
      deviceId: device.id,
      role,
      grant,
      expiresAt: new Date(expiresAt).toISOString(),
      iceServers,
    };
  }

  /**
   * Whether `signature` over `message` is one this replica made for a grant not yet
   * presented (then forgotten: a second offer with it is verified like any other). A
   * signature check for the signaling gateway to try before the real one: it accepts only
   * the exact signing input it signed.
   */
  signedHere(signature: Uint8Array, message: Uint8Array): boolean {
    const key = Buffer.from(signature).toString('base64url');
    const input = this.issued.get(key);
    if (input === undefined || !Buffer.from(input, 'utf8').equals(message)) return false;
    this.issued.delete(key);
    return true;
  }
}
