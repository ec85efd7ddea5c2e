#!/usr/bin/env node
// edge-agent CLI: enroll | run | status. Exit codes: 0 ok, 1 failure, 2 usage, config or
// not enrolled.
import { parseArgs } from 'node:util';
import { AgentStartError, startAgent } from './agent.js';
import { type AgentConfig, ConfigError, loadConfig } from './config.js';
import { EnrollError, enroll } from './enroll.js';
import { IdentityStore, identityFingerprints } from './identity.js';
import { createLogger } from './log.js';
import { isHealthy, readAgentState } from './state.js';
import { AGENT_VERSION } from './version.js';

const USAGE = `edge-agent ${AGENT_VERSION}

Usage:
  edge-agent enroll --registrar URL --code CODE [--name NAME] [--force] [--insecure]
  edge-agent run
  edge-agent status [--json] [--health]

Common options: --config FILE (JSON or YAML; also EDGE_AGENT_CONFIG), --data-dir DIR
Environment: REGISTRAR_URL, DATA_DIR, CLIPS_DIR, UPSTREAM_ORIGINS, DEFAULT_UPSTREAM,
  MAX_SESSIONS, IDLE_TIMEOUT_S, LOG_LEVEL, CLAIM_CODE, DEVICE_NAME, MQTT_URL,
  HEARTBEAT_INTERVAL_S, AUDIT_MAX_FILE_BYTES, AUDIT_KEEP_FILES, WEBRTC, ALLOW_INSECURE_REGISTRAR,
  ICE_BIND_ADDRESS
`;

const out = (line: string): void => void process.stdout.write(`${line}\n`);
const err = (line: string): void => void process.stderr.write(`${line}\n`);

function config(
  values: { config?: string | undefined; 'data-dir'?: string | undefined },
  extra: Partial<Record<keyof AgentConfig, unknown>> = {},
): AgentConfig {
  return loadConfig({
    ...(values.config !== undefined ? { file: values.config } : {}),
    overrides: { dataDir: values['data-dir'], ...extra },
  });
}

async function cmdEnroll(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      registrar: { type: 'string' },
      code: { type: 'string' },
      name: { type: 'string' },
      force: { type: 'boolean', default: false },
      insecure: { type: 'boolean', default: false },
      config: { type: 'string' },
      'data-dir': { type: 'string' },
    },
    strict: true,
  });
  const c = config(values, {
    registrarUrl: values.registrar,
    claimCode: values.code,
    deviceName: values.name,
    ...(values.insecure ? { allowInsecureRegistrar: true } : {}),
  });
  if (c.registrarUrl === undefined || c.claimCode === undefined) {
    err('enroll needs --registrar URL and --code CODE (or REGISTRAR_URL and CLAIM_CODE)');
    return 2;
  }
  const identity = await enroll({
    registrarUrl: c.registrarUrl,
    code: c.claimCode,
    dataDir: c.dataDir,
    agentVersion: AGENT_VERSION,
    name: c.deviceName,
    allowInsecure: c.allowInsecureRegistrar,
    force: values.force,
  });
  const fp = identityFingerprints(identity);
  out(`enrolled device ${identity.deviceId} (org ${identity.orgId})`);
  out(`device key fingerprint:    ${fp.device}`);
  out(`registrar key (pinned):    ${fp.registrar}`);
  out(`identity stored in ${c.dataDir}`);
  return 0;
}

async function cmdStatus(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      json: { type: 'boolean', default: false },
      health: { type: 'boolean', default: false },
      config: { type: 'string' },
      'data-dir': { type: 'string' },
    },
    strict: true,
  });
  const c = config(values);
  const state = await readAgentState(c.dataDir);
  const healthy = isHealthy(state, c.heartbeatIntervalS, Date.now());
  if (values.health) {
    if (!healthy)
      err(
        state
          ? `unhealthy: state ${state.mqtt}, updated ${new Date(state.updatedAt).toISOString()}`
          : 'unhealthy: agent not running',
      );
    return healthy ? 0 : 1;
  }
  const identity = await new IdentityStore(c.dataDir).load();
  const report = identity
    ? {
        enrolled: true,
        deviceId: identity.deviceId,
        orgId: identity.orgId,
        name: identity.name,
        registrar: identity.registrarUrl,
        fingerprints: identityFingerprints(identity),
        mqtt: { url: c.mqttUrl ?? identity.mqtt.url, username: identity.mqtt.username },
        agent: state ?? null,
        healthy,
        agentVersion: AGENT_VERSION,
      }
    : {
        enrolled: false,
        dataDir: c.dataDir,
        agent: state ?? null,
        healthy,
        agentVersion: AGENT_VERSION,
      };
  if (values.json) {
    out(JSON.stringify(report, null, 2));
  } else if (identity) {
    const fp = identityFingerprints(identity);
    out(
      `device:        ${identity.deviceId}${identity.name ? ` (${identity.name})` : ''}, org ${identity.orgId}`,
    );
    out(`fingerprint:   ${fp.device}`);
    out(`registrar:     ${identity.registrarUrl} (key ${fp.registrar})`);
    out(`mqtt:          ${c.mqttUrl ?? identity.mqtt.url} as ${identity.mqtt.username}`);
    out(
      state
        ? `agent:         ${state.mqtt}, ${state.mode}, ${state.sessions} session(s), pid ${state.pid}, updated ${new Date(state.updatedAt).toISOString()}${healthy ? '' : ' (stale)'}`
        : 'agent:         not running',
    );
  } else {
    out(`not enrolled (data dir ${c.dataDir})`);
  }
  return identity ? 0 : 2;
}

async function cmdRun(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: { config: { type: 'string' }, 'data-dir': { type: 'string' } },
    strict: true,
  });
  const c = config(values);
  const log = createLogger(c.logLevel);
  const agent = await startAgent(c, log);
  return new Promise<number>((resolve) => {
    const onSignal = (signal: NodeJS.Signals): void => {
      process.removeListener('SIGTERM', onSignal);
      process.removeListener('SIGINT', onSignal);
      // a second signal, or a stop that hangs, ends the process anyway
      process.once(signal, () => process.exit(130));
      setTimeout(() => {
        log.error('graceful stop timed out');
        process.exit(1);
      }, 8000).unref();
      agent.stop(signal).then(
        () => resolve(0),
        (e: unknown) => {
          log.error({ err: String(e) }, 'stop failed');
          resolve(1);
        },
      );
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  });
}

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case 'enroll':
        return await cmdEnroll(rest);
      case 'run':
        return await cmdRun(rest);
      case 'status':
        return await cmdStatus(rest);
      case '--version':
      case 'version':
        out(AGENT_VERSION);
        return 0;
      case undefined:
      case 'help':
      case '--help':
      case '-h':
        out(USAGE);
        return command === undefined ? 2 : 0;
      default:
        err(`unknown command: ${command}\n\n${USAGE}`);
        return 2;
    }
  } catch (e) {
    if (e instanceof ConfigError) {
      err(e.message);
      return 2;
    }
    if (e instanceof AgentStartError) {
      err(`edge-agent: ${e.message}`);
      return e.exitCode;
    }
    if (e instanceof EnrollError) {
      err(`enrollment failed: ${e.message}`);
      return e.code === 'ALREADY_ENROLLED' || e.code === 'INSECURE_REGISTRAR' ? 2 : 1;
    }
    if (e instanceof TypeError && 'code' in e && String(e.code).startsWith('ERR_PARSE_ARGS')) {
      err(`${e.message}\n\n${USAGE}`);
      return 2;
    }
    err(`edge-agent: ${(e as Error).message}`);
    return 1;
  }
}

const code = await main(process.argv.slice(2));
if (process.argv[2] === 'run') process.exit(code); // do not wait for stray handles after a stop
process.exitCode = code;
