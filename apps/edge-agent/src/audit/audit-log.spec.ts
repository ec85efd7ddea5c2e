import { mkdtempSync, readdirSync, readFileSync, statSync, appendFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type AuditEvent, type AuditEventInput, AuditLog, syncAuditLog } from './audit-log.js';

const dir = (): string => join(mkdtempSync(join(tmpdir(), 'agent-audit-')), 'audit');
const ev = (i: number): AuditEventInput => ({
  ts: 1_700_000_000_000 + i,
  sessionId: 's-1',
  user: 'u-1',
  role: 'viewer',
  method: 'GET',
  path: `/api/item/${i}`,
  status: 200,
  bytes: i * 10,
});

describe('AuditLog', () => {
  it('appends JSON lines with increasing seq, 0600 files in a 0700 dir', async () => {
    const d = dir();
    const log = new AuditLog({ dir: d });
    await log.open();
    await Promise.all([1, 2, 3].map((i) => log.append(ev(i))));
    await log.close();
    expect(statSync(d).mode & 0o777).toBe(0o700);
    const files = readdirSync(d);
    expect(files).toEqual(['audit-000000000001.jsonl']);
    expect(statSync(join(d, files[0] as string)).mode & 0o777).toBe(0o600);
    const lines = readFileSync(join(d, files[0] as string), 'utf8')
      .trim()
      .split('\n');
    expect(lines.map((l) => (JSON.parse(l) as AuditEvent).seq)).toEqual([1, 2, 3]);
    expect(JSON.parse(lines[0] as string)).toMatchObject({
      user: 'u-1',
      method: 'GET',
      path: '/api/item/1',
      status: 200,
    });
  });

  it('rotates by size, keeps N files, and resumes seq after a restart', async () => {
    const d = dir();
    const log = new AuditLog({ dir: d, maxFileBytes: 4096, keepFiles: 3 });
    await log.open();
    for (let i = 1; i <= 200; i++) await log.append(ev(i));
    await log.close();
    const files = readdirSync(d).filter((f) => f.endsWith('.jsonl'));
    expect(files).toHaveLength(3);
    for (const f of files) expect(statSync(join(d, f)).size).toBeLessThanOrEqual(4096);
    const again = new AuditLog({ dir: d, maxFileBytes: 4096, keepFiles: 3 });
    await again.open();
    expect(again.nextSequence).toBe(201);
    expect((await again.append(ev(201))).seq).toBe(201);
    // what survives is the newest events, contiguous up to 201
    const events = await again.readUnsynced(10_000);
    expect(events.at(-1)?.seq).toBe(201);
    expect(events.map((e) => e.seq)).toEqual(
      Array.from({ length: events.length }, (_, k) => 201 - events.length + 1 + k),
    );
    await again.close();
  });

  it('skips a torn last line after a crash', async () => {
    const d = dir();
    const log = new AuditLog({ dir: d });
    await log.open();
    await log.append(ev(1));
    await log.close();
    appendFileSync(join(d, 'audit-000000000001.jsonl'), '{"seq":2,"ts":');
    const again = new AuditLog({ dir: d });
    await again.open();
    expect((await again.readUnsynced()).map((e) => e.seq)).toEqual([1]);
    expect((await again.append(ev(2))).seq).toBe(2);
    await again.close();
  });

  it('returns unsynced events in batches; the cursor persists only after success', async () => {
    const d = dir();
    const log = new AuditLog({ dir: d, maxFileBytes: 4096, keepFiles: 50 });
    await log.open();
    for (let i = 1; i <= 250; i++) await log.append(ev(i));
    expect((await log.readUnsynced(100)).map((e) => e.seq)).toEqual(
      Array.from({ length: 100 }, (_, k) => k + 1),
    );

    // a publisher that fails on the second batch
    const sent: number[][] = [];
    let calls = 0;
    await expect(
      syncAuditLog(
        log,
        (batch) => {
          calls += 1;
          if (calls === 2) return Promise.reject(new Error('broker gone'));
          sent.push(batch.map((e) => e.seq));
          return Promise.resolve();
        },
        100,
      ),
    ).rejects.toThrow('broker gone');
    expect(sent).toHaveLength(1);
    expect(log.syncedSeq).toBe(100);
    await log.close();

    // after a restart the cursor is still 100 and the rest goes out
    const again = new AuditLog({ dir: d, maxFileBytes: 4096, keepFiles: 50 });
    await again.open();
    expect(again.syncedSeq).toBe(100);
    const rest: number[] = [];
    expect(
      await syncAuditLog(
        again,
        (batch) => {
          rest.push(...batch.map((e) => e.seq));
          return Promise.resolve();
        },
        64,
      ),
    ).toBe(150);
    expect(rest).toEqual(Array.from({ length: 150 }, (_, k) => k + 101));
    expect(await again.readUnsynced()).toEqual([]);
    expect(statSync(join(d, 'cursor.json')).mode & 0o777).toBe(0o600);
    await again.close();
  });
});
