// Heartbeat metrics (the `pf/v1/dev/{D}/heartbeat` payload): uptime, load, memory, disk free
// of the data dir, SoC temperature when readable, agent version, active sessions.
import { readdir, readFile, statfs } from 'node:fs/promises';
import { freemem, loadavg, totalmem, uptime } from 'node:os';
import { join } from 'node:path';
import { AGENT_VERSION } from './version.js';

export interface Heartbeat {
  ts: number;
  uptimeS: number;
  load1: number;
  memUsedBytes: number;
  memTotalBytes: number;
  diskFreeBytes: number;
  tempC?: number;
  agentVersion: string;
  sessions: number;
}

export interface MetricsOptions {
  dataDir: string;
  activeSessions: () => number;
  /** Base of the thermal zones (tests). */
  thermalRoot?: string;
  now?: () => number;
}

/** Highest readable `thermal_zone*\/temp` in °C (millidegrees in sysfs), else undefined. */
export async function readTemperatureC(root = '/sys/class/thermal'): Promise<number | undefined> {
  let zones: string[];
  try {
    zones = (await readdir(root)).filter((z) => z.startsWith('thermal_zone'));
  } catch {
    return undefined;
  }
  let best: number | undefined;
  for (const zone of zones) {
    try {
      const milli = Number((await readFile(join(root, zone, 'temp'), 'utf8')).trim());
      if (!Number.isFinite(milli)) continue;
      const c = Math.round(milli / 100) / 10;
      if (c > -50 && c < 200 && (best === undefined || c > best)) best = c;
    } catch {
      // unreadable zone: skip
    }
  }
  return best;
}

export async function collectHeartbeat(options: MetricsOptions): Promise<Heartbeat> {
  let diskFreeBytes = 0;
  try {
    const fs = await statfs(options.dataDir);
    diskFreeBytes = fs.bavail * fs.bsize;
  } catch {
    diskFreeBytes = 0;
  }
  const total = totalmem();
  const hb: Heartbeat = {
    ts: (options.now ?? Date.now)(),
    uptimeS: Math.floor(uptime()),
    load1: Math.round((loadavg()[0] ?? 0) * 100) / 100,
    memUsedBytes: total - freemem(),
    memTotalBytes: total,
    diskFreeBytes,
    agentVersion: AGENT_VERSION,
    sessions: options.activeSessions(),
  };
  const temp = await readTemperatureC(options.thermalRoot);
  if (temp !== undefined) hb.tempC = temp;
  return hb;
}
