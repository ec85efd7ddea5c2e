import { Injectable } from '@nestjs/common';
import { AuditRepository } from './audit.repository.js';
import type { AuditEntry, AuditEventView, AuditQuery } from './audit.types.js';

@Injectable()
export class AuditService {
  constructor(private readonly repo: AuditRepository) {}

  /** Records a security-relevant event. Never put secrets or payload in `details`. */
  record(entry: AuditEntry): Promise<void> {
    return this.repo.insert(entry);
  }

  recordMany(entries: AuditEntry[]): Promise<void> {
    return entries.length === 0 ? Promise.resolve() : this.repo.insertMany(entries);
  }

  async query(q: AuditQuery): Promise<{ items: AuditEventView[]; nextCursor: string | null }> {
    const items = await this.repo.query(q);
    const last = items.at(-1);
    return { items, nextCursor: items.length === q.limit && last ? last.id : null };
  }
}
