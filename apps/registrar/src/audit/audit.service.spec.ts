import { describe, expect, it } from 'vitest';
import type { AuditRepository } from './audit.repository.js';
import { AUDIT_MAX_BATCH, AuditService } from './audit.service.js';
import type { AuditEntry } from './audit.types.js';

/** A repository double that stores rows, and fails the next `failNext` writes. */
function fakeRepo() {
  const rows: (AuditEntry & { ts?: Date })[] = [];
  const state = { failNext: 0, writes: 0 };
  const repo = {
    insertMany: (entries: (AuditEntry & { ts?: Date })[]) => {
      state.writes++;
      if (state.failNext > 0) {
        state.failNext--;
        return Promise.reject(new Error('database unavailable'));
      }
      rows.push(...entries);
      return Promise.resolve();
    },
    query: () => Promise.resolve([]),
  } as unknown as AuditRepository;
  return { repo, rows, state };
}

const entry = (i: number): AuditEntry => ({
  orgId: 'org',
  actorType: 'user',
  actorId: 'u',
  action: 'session.signal',
  targetType: 'device',
  targetId: `d${i}`,
  details: { sessionId: `s${i}` },
  sourceIp: null,
});

describe('AuditService (batched writes)', () => {
  it('writes every recorded event, in order, with the time it happened, on flush', async () => {
    const { repo, rows } = fakeRepo();
    const audit = new AuditService(repo);
    const before = Date.now();
    for (let i = 0; i < 2 * AUDIT_MAX_BATCH + 7; i++) await audit.record(entry(i));
    await audit.recordMany([entry(-1), entry(-2)]);
    await audit.flush();
    expect(audit.pending).toBe(0);
    expect(rows.map((r) => r.targetId)).toEqual([
      ...Array.from({ length: 2 * AUDIT_MAX_BATCH + 7 }, (_, i) => `d${i}`),
      'd-1',
      'd-2',
    ]);
    expect(rows.every((r) => r.ts instanceof Date && r.ts.getTime() >= before)).toBe(true);
  });

  it('keeps events across failed writes and writes them once the database is back', async () => {
    const { repo, rows, state } = fakeRepo();
    const audit = new AuditService(repo);
    state.failNext = 2;
    await audit.record(entry(1));
    await audit.record(entry(2));
    await expect(audit.flush()).rejects.toThrow('database unavailable');
    expect(audit.pending).toBe(2);
    await audit.record(entry(3));
    await expect(audit.flush()).rejects.toThrow('database unavailable');
    await audit.flush();
    expect(rows.map((r) => r.targetId)).toEqual(['d1', 'd2', 'd3']);
    expect(audit.pending).toBe(0);
  });

  it('writes what is buffered at shutdown, retrying a failed write', async () => {
    const { repo, rows, state } = fakeRepo();
    const audit = new AuditService(repo);
    for (let i = 0; i < 5; i++) await audit.record(entry(i));
    state.failNext = 1;
    await audit.beforeApplicationShutdown();
    expect(rows).toHaveLength(5);
    expect(state.writes).toBeGreaterThanOrEqual(2);
  });

  it('flushes by itself in the background', async () => {
    const { repo, rows } = fakeRepo();
    const audit = new AuditService(repo);
    await audit.record(entry(1));
    while (rows.length === 0) await new Promise((r) => setTimeout(r, 10));
    expect(rows.map((r) => r.targetId)).toEqual(['d1']);
    audit.onModuleDestroy();
  });
});
