import { Inject, Injectable, Logger } from '@nestjs/common';
import {
  CryptoError,
  type Ed25519PublicJwk,
  createEnrollmentNonce,
  keyFingerprint,
  verifyEnrollmentProof,
} from '@peerfetch/crypto';
import { AuditService } from '../audit/audit.service.js';
import { DomainError, ErrorCode } from '../common/errors.js';
import { randomSecret, sha256Hex } from '../common/secrets.js';
import { claimCodeHash } from '../claim-codes/claim-codes.service.js';
import { CONFIG, type RegistrarConfig } from '../config/config.js';
import { REGISTRAR_KEY, type RegistrarKey } from '../keys/registrar-key.js';
import { DynsecError } from '../mqtt/dynsec.js';
import { MqttService } from '../mqtt/mqtt.service.js';
import { EnrollmentRepository, type RedeemOutcome } from './enrollment.repository.js';

/** Time the enrollment transaction gets on top of the broker's provisioning timeout. */
const TRANSACTION_MARGIN_MS = 5_000;

export interface EnrollInput {
  code: string;
  nonce: string;
  publicKey: unknown;
  proof: string;
  agentVersion: string;
  name?: string | undefined;
}

export interface EnrollResult {
  deviceId: string;
  orgId: string;
  registrarKey: Ed25519PublicJwk;
  mqtt: { url: string; username: string; password: string };
}

@Injectable()
export class EnrollmentService {
  private readonly logger = new Logger('Enrollment');

  constructor(
    private readonly repo: EnrollmentRepository,
    private readonly audit: AuditService,
    @Inject(CONFIG) private readonly config: RegistrarConfig,
    @Inject(REGISTRAR_KEY) private readonly key: RegistrarKey,
    private readonly mqtt: MqttService,
  ) {}

  async challenge(): Promise<{ nonce: string; expiresAt: number }> {
    const now = new Date();
    await this.repo.purgeExpiredNonces(now);
    const nonce = createEnrollmentNonce();
    const expiresAt = now.getTime() + this.config.enrollNonceTtlMs;
    await this.repo.createNonce(nonce, new Date(expiresAt));
    return { nonce, expiresAt };
  }

  async enroll(input: EnrollInput, sourceIp: string | null): Promise<EnrollResult> {
    const now = new Date();
    const refuse = async (
      code: ErrorCode,
      message: string,
      reason: string,
      orgId: string | null = null,
    ): Promise<never> => {
      await this.audit.record({
        orgId,
        actorType: 'anonymous',
        actorId: null,
        action: 'device.enroll_refused',
        details: { reason, agentVersion: input.agentVersion },
        sourceIp,
      });
      throw new DomainError(code, message);
    };

    // 1. The nonce is consumed whatever happens next: a proof can be tried once.
    if (!(await this.repo.consumeNonce(input.nonce, now))) {
      return refuse(
        ErrorCode.ENROLLMENT_NONCE_INVALID,
        'enrollment nonce is unknown, expired or already used; request a new challenge',
        'nonce',
      );
    }
    // 2. Proof of possession of the device key over (code, nonce, key).
    let publicKey: Uint8Array;
    try {
      publicKey = verifyEnrollmentProof({
        code: input.code,
        nonce: input.nonce,
        publicKey: input.publicKey,
        proof: input.proof,
      });
    } catch (error) {
      if (error instanceof CryptoError) {
        return refuse(
          ErrorCode.ENROLLMENT_PROOF_INVALID,
          `enrollment proof rejected: ${error.message}`,
          `proof:${error.code}`,
        );
      }
      throw error;
    }
    const fingerprint = keyFingerprint(publicKey).base64url;
    const mqttPassword = randomSecret();
    // 3. Claim code + device + broker account, atomically: the account (MQTT_PROVISIONING=
    //    dynsec) is made inside the transaction, before its commit. If the broker does not
    //    confirm, nothing is committed: no device, and the claim code stays usable.
    const attempt: { device?: { deviceId: string; orgId: string }; provisioned?: boolean } = {};
    let outcome: RedeemOutcome;
    try {
      outcome = await this.repo.redeem(
        {
          codeHash: claimCodeHash(input.code),
          now,
          name: input.name,
          publicKeyJwk: input.publicKey as object,
          keyFingerprint: fingerprint,
          agentVersion: input.agentVersion,
          mqttPasswordHash: sha256Hex(mqttPassword),
        },
        {
          beforeCommit: async (device) => {
            attempt.device = device;
            await this.mqtt.provisionDevice(device.deviceId, mqttPassword);
            attempt.provisioned = true;
          },
          ...(this.config.mqtt.provisioning === 'dynsec'
            ? { timeoutMs: this.config.mqtt.provisioningTimeoutMs + TRANSACTION_MARGIN_MS }
            : {}),
        },
      );
    } catch (error) {
      // The commit failed after the broker confirmed: take the account back off the broker
      // (if this fails too, the sweep removes it: no device has that id).
      if (attempt.device && attempt.provisioned) {
        await this.mqtt.removeDevice(attempt.device.deviceId);
      }
      if (!(error instanceof DynsecError)) throw error;
      this.logger.warn(
        { err: error, code: error.code },
        'enrollment refused: the MQTT broker did not confirm the device account',
      );
      return refuse(
        ErrorCode.MQTT_PROVISIONING_FAILED,
        'the MQTT broker did not confirm the device account, so nothing was enrolled; ' +
          'the claim code is still valid: try again later',
        `mqtt_provisioning:${error.code}`,
        attempt.device?.orgId ?? null,
      );
    }
    switch (outcome.kind) {
      case 'code_invalid':
        return refuse(
          ErrorCode.CLAIM_CODE_INVALID,
          'claim code is invalid, expired, revoked or already used',
          `code:${outcome.reason}`,
          outcome.orgId,
        );
      case 'key_revoked':
        return refuse(
          ErrorCode.KEY_REVOKED,
          'this device key has been revoked',
          'key_revoked',
          outcome.orgId,
        );
      case 'key_enrolled':
        return refuse(
          ErrorCode.KEY_ALREADY_ENROLLED,
          'this device key is already enrolled',
          'key_enrolled',
          outcome.orgId,
        );
      case 'enrolled':
        break;
    }
    await this.audit.record({
      orgId: outcome.orgId,
      actorType: 'device',
      actorId: outcome.deviceId,
      action: 'device.enroll',
      targetType: 'device',
      targetId: outcome.deviceId,
      details: {
        name: outcome.name,
        tags: outcome.tags,
        keyFingerprint: fingerprint,
        agentVersion: input.agentVersion,
      },
      sourceIp,
    });
    return {
      deviceId: outcome.deviceId,
      orgId: outcome.orgId,
      registrarKey: this.key.publicJwk,
      mqtt: { url: this.mqtt.publicUrl(), username: outcome.deviceId, password: mqttPassword },
    };
  }
}
