// The "device" of the NAT lab: the real WebRtcAnswerer + agent router (clips route) in one
// process, run inside the device-LAN namespace. Signaling is JSON lines: SignalIn on stdin
// (from the console, relayed by the test runner), SignalOut on stdout. Logs on stderr.
//
//   node --conditions=@peerfetch/source --import tsx device.ts <config.json>
//   config: { identity: DeviceIdentity, clipsDir: string }
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';

import nodeDataChannel from 'node-datachannel';
import { createClipsHandler } from '../../src/clips/clips.js';
import { createUpstreamProxy } from '../../src/http/proxy.js';
import { createAgentRouter } from '../../src/http/router.js';
import type { DeviceIdentity } from '../../src/identity.js';
import { createLogger } from '../../src/log.js';
import type { SignalIn } from '../../src/mqtt/topics.js';
import { WebRtcAnswerer } from '../../src/webrtc/answerer.js';

const configPath = process.argv[2];
if (!configPath) throw new Error('usage: device.ts <config.json>');
const config = JSON.parse(readFileSync(configPath, 'utf8')) as {
  identity: DeviceIdentity;
  clipsDir: string;
};

const log = createLogger(process.env['NAT_TEST_LOG'] ? 'debug' : 'warn', process.stderr);
const audits: unknown[] = [];
const router = createAgentRouter({
  clips: createClipsHandler({ clipsDir: config.clipsDir }),
  proxy: createUpstreamProxy({ origins: [] }),
  info: () => ({ deviceId: config.identity.deviceId, name: config.identity.name }),
  audit: (e) => audits.push(e),
});
const answerer = new WebRtcAnswerer({
  identity: config.identity,
  handlerFor: router,
  send: (m) => {
    process.stdout.write(`${JSON.stringify(m)}\n`);
    return Promise.resolve();
  },
  log,
  maxSessions: 4,
  idleTimeoutS: 120,
});

const lines = createInterface({ input: process.stdin });
lines.on('line', (line) => {
  let message: SignalIn;
  try {
    message = JSON.parse(line) as SignalIn;
  } catch {
    log.warn('bad signaling line');
    return;
  }
  answerer.handle(message).catch((err: unknown) => log.warn({ err: String(err) }, 'handle'));
});

let stopping = false;
async function stop(): Promise<void> {
  if (stopping) return;
  stopping = true;
  await answerer.closeAll('shutdown');
  await new Promise((r) => setTimeout(r, 100));
  nodeDataChannel.cleanup();
  process.exit(0);
}
lines.on('close', () => void stop());
process.on('SIGTERM', () => void stop());
process.stdout.write(`${JSON.stringify({ type: 'ready' })}\n`);
