// The agent's configuration: one zod schema, and the only module that reads `process.env`.
//
// Sources, lowest precedence first: built-in defaults < config file (JSON or YAML, path in
// `EDGE_AGENT_CONFIG` or `--config`) < environment variables < explicit overrides (CLI
// flags). File keys are the camelCase names of `AgentConfig`; environment variables are
// listed in `ENV_KEYS`. Every invalid key is reported at once, by name.
import { readFileSync } from 'node:fs';
import { extname, isAbsolute } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/** Environment variable → config key. */
export const ENV_KEYS = {
  REGISTRAR_URL: 'registrarUrl',
  DATA_DIR: 'dataDir',
  CLIPS_DIR: 'clipsDir',
  UPSTREAM_ORIGINS: 'upstreamOrigins',
  DEFAULT_UPSTREAM: 'defaultUpstream',
  MAX_SESSIONS: 'maxSessions',
  IDLE_TIMEOUT_S: 'idleTimeoutS',
  LOG_LEVEL: 'logLevel',
  CLAIM_CODE: 'claimCode',
  DEVICE_NAME: 'deviceName',
  MQTT_URL: 'mqttUrl',
  HEARTBEAT_INTERVAL_S: 'heartbeatIntervalS',
  AUDIT_MAX_FILE_BYTES: 'auditMaxFileBytes',
  AUDIT_KEEP_FILES: 'auditKeepFiles',
  WEBRTC: 'webrtc',
  ALLOW_INSECURE_REGISTRAR: 'allowInsecureRegistrar',
  ICE_BIND_ADDRESS: 'iceBindAddress',
} as const satisfies Record<string, keyof AgentConfig>;

/** Env var naming the config file. */
export const CONFIG_FILE_ENV = 'EDGE_AGENT_CONFIG';

/**
 * Parses and normalizes an upstream origin: `http(s)://host[:port]` only, no credentials,
 * no path (a lone `/` is accepted), no query or fragment. Returns the WHATWG serialized
 * origin (lower-case host, default port dropped), which is what requests are matched
 * against, literally.
 */
export function normalizeOrigin(input: string): string {
  let url: URL;
  try {
    url = new URL(input);
  } catch {
    throw new Error(`not a URL: ${JSON.stringify(input)}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new Error(`only http and https origins are allowed, got ${url.protocol}`);
  }
  if (url.username !== '' || url.password !== '') {
    throw new Error('credentials in an upstream URL are not allowed');
  }
  if (url.pathname !== '/' || url.search !== '' || url.hash !== '') {
    throw new Error(`an upstream origin has no path, query or fragment: ${JSON.stringify(input)}`);
  }
  return url.origin;
}

const origin = z.string().transform((value, ctx) => {
  try {
    return normalizeOrigin(value.trim());
  } catch (err) {
    ctx.addIssue({ code: 'custom', message: (err as Error).message });
    return z.NEVER;
  }
});

const httpUrl = z
  .string()
  .trim()
  .refine((v) => {
    try {
      const u = new URL(v);
      return (u.protocol === 'http:' || u.protocol === 'https:') && u.username === '';
    } catch {
      return false;
    }
  }, 'must be an http(s) URL without credentials')
  .transform((v) => v.replace(/\/+$/, ''));

const mqttUrl = z
  .string()
  .trim()
  .refine((v) => {
    try {
      const u = new URL(v);
      return ['mqtt:', 'mqtts:', 'ws:', 'wss:'].includes(u.protocol) && u.username === '';
    } catch {
      return false;
    }
  }, 'must be an mqtt://, mqtts://, ws:// or wss:// URL without credentials');

const absPath = z
  .string()
  .trim()
  .min(1)
  .refine((p) => isAbsolute(p), 'must be an absolute path');

const bool = z.union([
  z.boolean(),
  z
    .enum(['on', 'off', 'true', 'false', '1', '0'])
    .transform((v) => ['on', 'true', '1'].includes(v)),
]);

const originList = z
  .union([z.string(), z.array(z.string())])
  .transform((v) =>
    (Array.isArray(v) ? v : v.split(',')).map((s) => s.trim()).filter((s) => s !== ''),
  )
  .pipe(z.array(origin))
  .transform((list) => [...new Set(list)]);

export const agentConfigSchema = z
  .object({
    registrarUrl: httpUrl.optional(),
    dataDir: absPath.default('/data'),
    clipsDir: absPath.default('/clips'),
    upstreamOrigins: originList.default([]),
    /**
     * Where proxied requests go when they do not name an upstream (`x-peerfetch-upstream`).
     * Defaults to the only allow-listed origin when there is exactly one.
     */
    defaultUpstream: origin.optional(),
    maxSessions: z.coerce.number().int().min(1).max(1024).default(8),
    idleTimeoutS: z.coerce.number().int().min(5).max(86_400).default(300),
    logLevel: z.enum(LOG_LEVELS).default('info'),
    claimCode: z.string().trim().min(1).max(256).optional(),
    deviceName: z.string().trim().min(1).max(128).optional(),
    mqttUrl: mqttUrl.optional(),
    heartbeatIntervalS: z.coerce.number().int().min(5).max(3600).default(30),
    auditMaxFileBytes: z.coerce
      .number()
      .int()
      .min(4096)
      .max(1 << 30)
      .default(1 << 20),
    auditKeepFiles: z.coerce.number().int().min(1).max(100).default(5),
    /** `off` runs presence/heartbeat/audit only and refuses sessions (explicit opt-in). */
    webrtc: bool.default(true),
    /** Local address ICE gathers on (multi-homed boards; 127.0.0.1 in loopback tests). */
    iceBindAddress: z.union([z.ipv4(), z.ipv6()]).optional(),
    /** Allow enrollment over plain http to a non-loopback registrar (lab setups only). */
    allowInsecureRegistrar: bool.default(false),
  })
  .strict()
  .superRefine((c, ctx) => {
    if (c.defaultUpstream !== undefined && !c.upstreamOrigins.includes(c.defaultUpstream)) {
      ctx.addIssue({
        code: 'custom',
        path: ['defaultUpstream'],
        message: 'must be one of upstreamOrigins',
      });
    }
  });

export type AgentConfig = z.output<typeof agentConfigSchema>;
export type AgentConfigInput = z.input<typeof agentConfigSchema>;

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(readonly issues: readonly { key: string; message: string }[]) {
    super(
      `invalid edge-agent configuration:\n${issues.map((i) => `  - ${i.key}: ${i.message}`).join('\n')}`,
    );
  }
}

const envNameOf: Record<string, string> = Object.fromEntries(
  Object.entries(ENV_KEYS).map(([env, key]) => [key, env]),
);

function readConfigFile(path: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError([
      { key: CONFIG_FILE_ENV, message: `cannot read ${path}: ${(err as Error).message}` },
    ]);
  }
  let data: unknown;
  try {
    data = extname(path) === '.json' ? JSON.parse(text) : parseYaml(text);
  } catch (err) {
    throw new ConfigError([
      { key: CONFIG_FILE_ENV, message: `cannot parse ${path}: ${(err as Error).message}` },
    ]);
  }
  if (data === null || data === undefined) return {};
  if (typeof data !== 'object' || Array.isArray(data)) {
    throw new ConfigError([{ key: CONFIG_FILE_ENV, message: `${path} must hold a mapping` }]);
  }
  return data as Record<string, unknown>;
}

export interface LoadConfigOptions {
  /** Defaults to `process.env`. */
  env?: Record<string, string | undefined>;
  /** Config file path (overrides `EDGE_AGENT_CONFIG`). */
  file?: string;
  /** Highest-precedence values (CLI flags). */
  overrides?: Partial<Record<keyof AgentConfig, unknown>>;
}

/** Builds the validated config or throws a `ConfigError` naming every bad key. */
export function loadConfig(options: LoadConfigOptions = {}): AgentConfig {
  const env = options.env ?? process.env;
  const file = options.file ?? env[CONFIG_FILE_ENV];
  const fromFile = file !== undefined && file !== '' ? readConfigFile(file) : {};
  const fromEnv: Record<string, string> = {};
  for (const [name, key] of Object.entries(ENV_KEYS)) {
    const value = env[name];
    if (value !== undefined && value !== '') fromEnv[key] = value;
  }
  const overrides = Object.fromEntries(
    Object.entries(options.overrides ?? {}).filter(([, v]) => v !== undefined),
  );
  const result = agentConfigSchema.safeParse({ ...fromFile, ...fromEnv, ...overrides });
  if (!result.success) {
    throw new ConfigError(
      result.error.issues.map((issue) => {
        const key = issue.path.length > 0 ? issue.path.map(String).join('.') : '(root)';
        const top = String(issue.path[0] ?? '');
        const env = envNameOf[top];
        const message =
          issue.code === 'unrecognized_keys'
            ? `unknown key(s): ${issue.keys.join(', ')}`
            : issue.message;
        return { key: env ? `${key} (${env})` : key, message };
      }),
    );
  }
  return result.data;
}
