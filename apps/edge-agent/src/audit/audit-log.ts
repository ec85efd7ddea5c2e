// Device-side audit log: JSON lines in `<dataDir>/audit/`, size-based rotation, and a
// persisted sync cursor.
//
// Every event gets a sequence number `seq` (monotonic across restarts). Files are named by
// the first seq they hold (`audit-000000000001.jsonl`); when the current file would exceed
// `maxFileBytes` a new one starts and all but the newest `keepFiles` are deleted (events
// rotated away before a sync are lost: the log is bounded by design, for boards with small
// flash). `cursor.json` holds the last seq the registrar acknowledged; `readUnsynced`
// returns what follows, `commit(seq)` moves the cursor (atomically) after a successful
// publish. Files 0600, directory 0700.
import { constants } from 'node:fs';
import { type FileHandle, open, readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { ensurePrivateDir, writeFileAtomic } from '../fsutil.js';

export const auditEventSchema = z.object({
  seq: z.number().int().positive(),
  ts: z.number().int(),
  sessionId: z.string(),
  user: z.string(),
  role: z.string().optional(),
  method: z.string(),
  path: z.string(),
  status: z.number().int(),
  bytes: z.number().int().nonnegative(),
  durationMs: z.number().int().nonnegative().optional(),
});
export type AuditEvent = z.infer<typeof auditEventSchema>;
export type AuditEventInput = Omit<AuditEvent, 'seq'>;

export interface AuditLogOptions {
  dir: string;
  maxFileBytes?: number;
  keepFiles?: number;
}

const FILE_RE = /^audit-(\d{12})\.jsonl$/;
const fileName = (firstSeq: number): string => `audit-${String(firstSeq).padStart(12, '0')}.jsonl`;

function parseLines(text: string): AuditEvent[] {
  const out: AuditEvent[] = [];
  for (const line of text.split('\n')) {
    if (line === '') continue;
    try {
      const parsed = auditEventSchema.safeParse(JSON.parse(line));
      if (parsed.success) out.push(parsed.data);
    } catch {
      // a torn last line after a crash: skip it
    }
  }
  return out;
}

export class AuditLog {
  readonly dir: string;
  readonly maxFileBytes: number;
  readonly keepFiles: number;
  private nextSeq = 1;
  private cursor = 0;
  private current: { fh: FileHandle; size: number; firstSeq: number } | undefined;
  private chain: Promise<unknown> = Promise.resolve();
  private opened = false;

  constructor(options: AuditLogOptions) {
    this.dir = options.dir;
    this.maxFileBytes = options.maxFileBytes ?? 1 << 20;
    this.keepFiles = options.keepFiles ?? 5;
  }

  private get cursorPath(): string {
    return join(this.dir, 'cursor.json');
  }

  /** First seq of each file, ascending. */
  private async files(): Promise<number[]> {
    const names = await readdir(this.dir);
    return names
      .map((n) => FILE_RE.exec(n)?.[1])
      .filter((s): s is string => s !== undefined)
      .map(Number)
      .sort((a, b) => a - b);
  }

  async open(): Promise<void> {
    await ensurePrivateDir(this.dir);
    try {
      const c = JSON.parse(await readFile(this.cursorPath, 'utf8')) as { syncedSeq?: unknown };
      if (typeof c.syncedSeq === 'number' && Number.isInteger(c.syncedSeq))
        this.cursor = c.syncedSeq;
    } catch {
      this.cursor = 0;
    }
    const files = await this.files();
    const last = files.at(-1);
    if (last !== undefined) {
      const events = parseLines(await readFile(join(this.dir, fileName(last)), 'utf8'));
      this.nextSeq = Math.max(last, (events.at(-1)?.seq ?? last - 1) + 1);
      const fh = await open(
        join(this.dir, fileName(last)),
        constants.O_WRONLY | constants.O_APPEND,
      );
      this.current = { fh, size: (await fh.stat()).size, firstSeq: last };
    }
    this.nextSeq = Math.max(this.nextSeq, this.cursor + 1);
    this.opened = true;
  }

  /** The last acknowledged seq. */
  get syncedSeq(): number {
    return this.cursor;
  }

  /** The seq the next event will get. */
  get nextSequence(): number {
    return this.nextSeq;
  }

  private serialize<T>(task: () => Promise<T>): Promise<T> {
    const run = this.chain.then(task, task);
    this.chain = run.catch(() => undefined);
    return run;
  }

  append(input: AuditEventInput): Promise<AuditEvent> {
    if (!this.opened) return Promise.reject(new Error('audit log not opened'));
    return this.serialize(async () => {
      const event: AuditEvent = { seq: this.nextSeq, ...input };
      const line = `${JSON.stringify(event)}\n`;
      const bytes = Buffer.byteLength(line);
      if (
        !this.current ||
        (this.current.size > 0 && this.current.size + bytes > this.maxFileBytes)
      ) {
        await this.rotate(event.seq);
      }
      const cur = this.current as NonNullable<typeof this.current>;
      await cur.fh.write(line);
      cur.size += bytes;
      this.nextSeq += 1;
      return event;
    });
  }

  private async rotate(firstSeq: number): Promise<void> {
    await this.current?.fh.close();
    const fh = await open(
      join(this.dir, fileName(firstSeq)),
      constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT,
      0o600,
    );
    this.current = { fh, size: 0, firstSeq };
    const files = await this.files();
    for (const old of files.slice(0, Math.max(0, files.length - this.keepFiles))) {
      await rm(join(this.dir, fileName(old)), { force: true });
    }
  }

  /** Up to `limit` events after the cursor, oldest first. */
  readUnsynced(limit = 100): Promise<AuditEvent[]> {
    return this.serialize(async () => {
      const files = await this.files();
      const out: AuditEvent[] = [];
      for (let i = 0; i < files.length && out.length < limit; i++) {
        const next = files[i + 1];
        if (next !== undefined && next - 1 <= this.cursor) continue;
        const text = await readFile(join(this.dir, fileName(files[i] as number)), 'utf8');
        for (const e of parseLines(text)) {
          if (e.seq > this.cursor) out.push(e);
          if (out.length >= limit) break;
        }
      }
      return out;
    });
  }

  /** Records that everything up to `seq` reached the registrar. */
  commit(seq: number): Promise<void> {
    return this.serialize(async () => {
      if (seq <= this.cursor) return;
      await writeFileAtomic(this.cursorPath, `${JSON.stringify({ syncedSeq: seq })}\n`);
      this.cursor = seq;
    });
  }

  close(): Promise<void> {
    return this.serialize(async () => {
      await this.current?.fh.close();
      this.current = undefined;
      this.opened = false;
    });
  }
}

/**
 * Publishes unsynced events in batches until none are left or `publish` fails; the cursor
 * moves only after a batch was acknowledged. Returns the number of events synced.
 */
export async function syncAuditLog(
  log: AuditLog,
  publish: (events: AuditEvent[]) => Promise<void>,
  batchSize = 100,
): Promise<number> {
  let synced = 0;
  for (;;) {
    const batch = await log.readUnsynced(batchSize);
    const last = batch.at(-1);
    if (last === undefined) return synced;
    await publish(batch);
    await log.commit(last.seq);
    synced += batch.length;
  }
}
