import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { statfs } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { collectHeartbeat, readTemperatureC } from './metrics.js';
import { AGENT_VERSION } from './version.js';

describe('metrics', () => {
  it('collects a heartbeat with plausible values', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'agent-metrics-'));
    const hb = await collectHeartbeat({
      dataDir,
      activeSessions: () => 3,
      thermalRoot: join(dataDir, 'none'),
      now: () => 42,
    });
    expect(hb.ts).toBe(42);
    expect(hb.sessions).toBe(3);
    expect(hb.agentVersion).toBe(AGENT_VERSION);
    expect(AGENT_VERSION).toMatch(/^\d+\.\d+\.\d+/);
    expect(hb.uptimeS).toBeGreaterThan(0);
    expect(hb.memTotalBytes).toBeGreaterThan(hb.memUsedBytes);
    expect(hb.memUsedBytes).toBeGreaterThan(0);
    const fs = await statfs(dataDir);
    expect(hb.diskFreeBytes).toBeGreaterThan(0);
    expect(hb.diskFreeBytes).toBeLessThanOrEqual(fs.blocks * fs.bsize);
    expect(hb.tempC).toBeUndefined();
    expect(JSON.parse(JSON.stringify(hb))).toEqual(hb);
  });

  it('reads the hottest readable thermal zone and ignores junk', async () => {
    const root = mkdtempSync(join(tmpdir(), 'agent-thermal-'));
    for (const [zone, value] of [
      ['thermal_zone0', '48312\n'],
      ['thermal_zone1', '61000'],
      ['thermal_zone2', 'garbage'],
      ['cooling_device0', '99000'],
    ] as const) {
      mkdirSync(join(root, zone));
      writeFileSync(join(root, zone, 'temp'), value);
    }
    mkdirSync(join(root, 'thermal_zone3')); // no temp file
    expect(await readTemperatureC(root)).toBe(61);
    expect(await readTemperatureC(join(root, 'missing'))).toBeUndefined();
  });
});
