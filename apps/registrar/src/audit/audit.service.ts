import {
  type BeforeApplicationShutdown,
  Injectable,
  Logger,
  type OnModuleDestroy,
} from '@nestjs/common';
import { AuditRepository } from './audit.repository.js';
import type { AuditEntry, AuditEventView, AuditQuery } from './audit.types.js';

/** Buffered events are written at most this long after they happen. */
export const AUDIT_FLUSH_INTERVAL_MS = 100;
/** A buffer this full is written at once (one multi-row INSERT). */
export const AUDIT_MAX_BATCH = 500;
const RETRY_MAX_MS = 5_000;
const SHUTDOWN_ATTEMPTS = 5;

type Pending = AuditEntry & { ts: Date };

/**
 * The audit log, written in batches: `record` timestamps the event and buffers it; the
 * buffer is written every AUDIT_FLUSH_INTERVAL_MS (or when AUDIT_MAX_BATCH events wait),
 * before every audit query (read-your-writes on this replica), and at shutdown. A failed
 * write keeps the events, in order, and is retried with backoff; nothing is dropped.
 * The bound: a crash (not a shutdown) loses at most the last interval's events.
 */
@Injectable()
export class AuditService implements BeforeApplicationShutdown, OnModuleDestroy {
  private readonly logger = new Logger('Audit');
  private buffer: Pending[] = [];
  private timer: NodeJS.Timeout | null = null;
  private flushing: Promise<void> | null = null;
  private failures = 0;

  constructor(private readonly repo: AuditRepository) {}

  /** Records a security-relevant event. Never put secrets or payload in `details`. */
  record(entry: AuditEntry): Promise<void> {
    this.enqueue([entry]);
    return Promise.resolve();
  }

  recordMany(entries: AuditEntry[]): Promise<void> {
    this.enqueue(entries);
    return Promise.resolve();
  }

  /** Events recorded and not yet written. */
  get pending(): number {
    return this.buffer.length;
  }

  /** Writes every buffered event; rejects if the database refuses (events are kept). */
  async flush(): Promise<void> {
    while (this.flushing) await this.flushing.catch(() => undefined);
    if (this.buffer.length === 0) return;
    this.flushing = this.writeOnce();
    try {
      await this.flushing;
    } finally {
      this.flushing = null;
    }
    if (this.buffer.length > 0) await this.flush();
  }

  async query(q: AuditQuery): Promise<{ items: AuditEventView[]; nextCursor: string | null }> {
    await this.flush().catch((error: unknown) =>
      this.logger.warn({ err: error }, 'audit flush before query failed'),
    );
    const items = await this.repo.query(q);
    const last = items.at(-1);
    return { items, nextCursor: items.length === q.limit && last ? last.id : null };
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.clearTimer();
    for (let attempt = 1; this.buffer.length > 0; attempt++) {
      try {
        await this.flush();
      } catch (error) {
        if (attempt >= SHUTDOWN_ATTEMPTS) {
          this.logger.error(
            { err: error, events: this.buffer.length },
            'audit events could not be written at shutdown',
          );
          return;
        }
        await new Promise((resolve) => setTimeout(resolve, 100 * attempt));
      }
    }
  }

  onModuleDestroy(): void {
    this.clearTimer();
  }

  private enqueue(entries: AuditEntry[]): void {
    if (entries.length === 0) return;
    const ts = new Date();
    for (const e of entries) this.buffer.push({ ...e, ts });
    if (this.buffer.length >= AUDIT_MAX_BATCH && this.failures === 0) {
      this.clearTimer();
      this.background();
    } else {
      this.schedule(AUDIT_FLUSH_INTERVAL_MS);
    }
  }

  private schedule(ms: number): void {
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.background();
    }, ms);
    this.timer.unref();
  }

  private clearTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  private background(): void {
    this.flush().catch(() => undefined);
  }

  private async writeOnce(): Promise<void> {
    const batch = this.buffer.splice(0, AUDIT_MAX_BATCH);
    try {
      await this.repo.insertMany(batch);
      this.failures = 0;
      if (this.buffer.length > 0) this.schedule(0);
    } catch (error) {
      // Keep them, first in line, and try again later.
      this.buffer.unshift(...batch);
      this.failures++;
      const delay = Math.min(RETRY_MAX_MS, AUDIT_FLUSH_INTERVAL_MS * 2 ** this.failures);
      this.logger.warn(
        { err: error, events: this.buffer.length, retryInMs: delay },
        'audit write failed; retrying',
      );
      this.clearTimer();
      this.schedule(delay);
      throw error;
    }
  }
}
