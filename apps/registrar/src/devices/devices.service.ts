import { Injectable } from '@nestjs/common';
import { AuditService } from '../audit/audit.service.js';
import type { Principal } from '../auth/auth.types.js';
import { forbidden, notFound } from '../common/errors.js';
import { GrantsService } from '../grants/grants.service.js';
import { grantRoleAtLeast } from '../grants/grants.types.js';
import { MqttService } from '../mqtt/mqtt.service.js';
import { DevicesRepository } from './devices.repository.js';
import type { DeviceStatus, DeviceView } from './devices.types.js';

@Injectable()
export class DevicesService {
  constructor(
    private readonly repo: DevicesRepository,
    private readonly grants: GrantsService,
    private readonly audit: AuditService,
    private readonly mqtt: MqttService,
  ) {}

  async list(
    p: Principal,
    q: { tag?: string; status?: DeviceStatus; search?: string; limit?: number; offset?: number },
  ): Promise<{ items: DeviceView[]; total: number }> {
    return this.repo.list({
      orgId: p.orgId,
      tag: q.tag,
      status: q.status,
      search: q.search,
      visibleTo: await this.grants.visibility(p),
      limit: q.limit ?? 50,
      offset: q.offset ?? 0,
    });
  }

  /** A device the caller may see; others (and other orgs' devices) are "not found". */
  async get(p: Principal, id: string): Promise<DeviceView> {
    const d = await this.repo.get(p.orgId, id);
    if (!d || (await this.grants.effectiveRole(p, d)) === null) throw notFound('device');
    return d;
  }

  private async requireAdmin(p: Principal, id: string): Promise<DeviceView> {
    const d = await this.get(p, id);
    const role = await this.grants.effectiveRole(p, d);
    if (!role || !grantRoleAtLeast(role, 'admin')) throw forbidden('requires admin on this device');
    return d;
  }

  async rename(p: Principal, id: string, name: string, ip: string | null): Promise<DeviceView> {
    const before = await this.requireAdmin(p, id);
    const d = await this.repo.update(p.orgId, id, { name });
    if (!d) throw notFound('device');
    await this.audit.record({
      orgId: p.orgId,
      actorType: 'user',
      actorId: p.userId,
      action: 'device.rename',
      targetType: 'device',
      targetId: id,
      details: { from: before.name, to: name },
      sourceIp: ip,
    });
    return d;
  }

  async setTags(p: Principal, id: string, tags: string[], ip: string | null): Promise<DeviceView> {
    const before = await this.requireAdmin(p, id);
    const unique = [...new Set(tags)].sort();
    const d = await this.repo.update(p.orgId, id, { tags: unique });
    if (!d) throw notFound('device');
    await this.audit.record({
      orgId: p.orgId,
      actorType: 'user',
      actorId: p.userId,
      action: 'device.tag',
      targetType: 'device',
      targetId: id,
      details: { from: before.tags, to: unique },
      sourceIp: ip,
    });
    return d;
  }

  async revokeKey(
    p: Principal,
    id: string,
    reason: string | null,
    ip: string | null,
  ): Promise<DeviceView> {
    await this.requireAdmin(p, id);
    const d = await this.repo.revokeKey(p.orgId, id, { userId: p.userId, reason });
    if (!d) throw notFound('device');
    // The database first (the registrar refuses the device from now on), then the broker.
    const brokerAccount = await this.mqtt.removeDevice(id);
    await this.audit.record({
      orgId: p.orgId,
      actorType: 'user',
      actorId: p.userId,
      action: 'device.revoke_key',
      targetType: 'device',
      targetId: id,
      details: { keyFingerprint: d.keyFingerprint, reason, brokerAccount },
      sourceIp: ip,
    });
    return d;
  }

  async delete(p: Principal, id: string, ip: string | null): Promise<void> {
    const d = await this.requireAdmin(p, id);
    if (!(await this.repo.delete(p.orgId, id))) throw notFound('device');
    const brokerAccount = await this.mqtt.removeDevice(id);
    await this.audit.record({
      orgId: p.orgId,
      actorType: 'user',
      actorId: p.userId,
      action: 'device.delete',
      targetType: 'device',
      targetId: id,
      details: { name: d.name, keyFingerprint: d.keyFingerprint, brokerAccount },
      sourceIp: ip,
    });
  }
}
