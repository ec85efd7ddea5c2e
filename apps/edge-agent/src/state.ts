// The running agent's state, in `<dataDir>/agent-state.json` (0600, atomic): what
// `edge-agent status` shows and what `status --health` (the container HEALTHCHECK) checks.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { writeFileAtomic } from './fsutil.js';

export const STATE_FILE = 'agent-state.json';

export const agentStateSchema = z.object({
  pid: z.number().int(),
  mode: z.enum(['full', 'presence-only']),
  mqtt: z.enum(['idle', 'connecting', 'online', 'offline', 'stopped']),
  sessions: z.number().int().nonnegative(),
  startedAt: z.number(),
  updatedAt: z.number(),
  agentVersion: z.string(),
});
export type AgentState = z.infer<typeof agentStateSchema>;

export function writeAgentState(dataDir: string, state: AgentState): Promise<void> {
  return writeFileAtomic(join(dataDir, STATE_FILE), `${JSON.stringify(state)}\n`);
}

export async function readAgentState(dataDir: string): Promise<AgentState | undefined> {
  try {
    const parsed = agentStateSchema.safeParse(
      JSON.parse(await readFile(join(dataDir, STATE_FILE), 'utf8')),
    );
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Healthy = a running agent refreshed its state recently (within 3 heartbeat intervals,
 * at least 60 s) and is not stopped. A broker outage is not unhealthy: restarting the
 * container would not bring the broker back, and the link reconnects on its own.
 */
export function isHealthy(
  state: AgentState | undefined,
  heartbeatIntervalS: number,
  now: number,
): boolean {
  if (!state || state.mqtt === 'stopped') return false;
  return now - state.updatedAt <= Math.max(60, 3 * heartbeatIntervalS) * 1000;
}
