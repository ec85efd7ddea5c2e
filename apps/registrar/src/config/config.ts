// The registrar's configuration: one zod schema, read once at boot. This is the only module
// that reads process.env; everything else receives a `RegistrarConfig`.
import { readFileSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';

const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((v) => v === 'true' || v === '1' || v === 'yes');

const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);

// src/config/config.ts and dist/config/config.js are both three levels below the repo root.
const defaultMigrationsDir = fileURLToPath(
  new URL('../../../../prisma/migrations', import.meta.url),
);

export const configSchema = z
  .object({
    HOST: z.string().min(1).default('127.0.0.1'),
    /** `iss` of the grants this registrar signs (same on every replica). */
    REGISTRAR_ID: z.string().min(1).max(200).default('peerfetch-registrar'),
    PORT: int(0, 65535).default(8790),
    /** PostgreSQL URL. Unset: embedded PGlite in DATA_DIR. */
    DATABASE_URL: z
      .string()
      .regex(/^postgres(ql)?:\/\//, 'must be a postgresql:// URL')
      .optional(),
    /** A file holding DATABASE_URL (e.g. a container secret); takes precedence. */
    DATABASE_URL_FILE: z.string().min(1).optional(),
    DATA_DIR: z.string().min(1).default('.data/registrar'),
    /** Ed25519 signing key (JWK, file mode 0600). Default: DATA_DIR/registrar-key.jwk. */
    REGISTRAR_KEY_FILE: z.string().min(1).optional(),
    MIGRATIONS_DIR: z.string().min(1).default(defaultMigrationsDir),
    /** Largest accepted request body (JSON), bytes. */
    BODY_LIMIT_BYTES: int(1024, 16 * 1024 * 1024).default(64 * 1024),
    LOGIN_RATE_LIMIT: int(1, 10_000).default(10),
    LOGIN_RATE_WINDOW_MS: int(1000, 3_600_000).default(60_000),
    SESSION_TTL_HOURS: int(1, 24 * 30).default(12),
    /** Set the Secure flag on the session cookie (enable behind HTTPS). */
    COOKIE_SECURE: bool.default(false),
    TRUST_PROXY: bool.default(false),
    BOOTSTRAP_ORG_NAME: z.string().min(1).max(100).default('default'),
    BOOTSTRAP_ADMIN_EMAIL: z.email().default('admin@example.com'),
    /** Unset: a random password is generated and printed once on first start. */
    BOOTSTRAP_ADMIN_PASSWORD: z.string().min(12).max(256).optional(),
    /** A file holding BOOTSTRAP_ADMIN_PASSWORD; takes precedence. */
    BOOTSTRAP_ADMIN_PASSWORD_FILE: z.string().min(1).optional(),
    /** Enrollment requests (challenge + enroll) per minute and client IP. */
    ENROLL_RATE_LIMIT: int(1, 100_000).default(120),
    ENROLL_NONCE_TTL_MS: int(5_000, 3_600_000).default(120_000),
    CLAIM_CODE_MAX_TTL_HOURS: int(1, 24 * 365).default(24 * 30),
    /** External broker. Unset: embedded aedes broker on MQTT_HOST:MQTT_PORT. */
    MQTT_URL: z
      .string()
      .regex(/^mqtts?:\/\//, 'must be an mqtt:// or mqtts:// URL')
      .optional(),
    /** The registrar's own credentials on an external broker. */
    MQTT_USERNAME: z.string().min(1).max(256).optional(),
    MQTT_PASSWORD: z.string().min(1).max(1024).optional(),
    /** A file holding MQTT_PASSWORD; takes precedence. */
    MQTT_PASSWORD_FILE: z.string().min(1).optional(),
    /** Embedded broker listen address (non-standard port: never clashes with 1883). */
    MQTT_HOST: z.string().min(1).default('127.0.0.1'),
    MQTT_PORT: int(0, 65535).default(18830),
    /**
     * What the registrar provisions on an external broker (MQTT_URL) for each device.
     * `none`: nothing (anonymous or externally managed broker: device credentials and ACLs
     * are the broker's own configuration). `dynsec`: a Mosquitto dynamic-security client and
     * role per device, created at enrollment and deleted at revocation/deletion; the
     * registrar's account (MQTT_USERNAME) must be a dynsec admin.
     */
    MQTT_PROVISIONING: z.enum(['none', 'dynsec']).default('none'),
    /** How long one provisioning operation may wait for the broker's answers. */
    MQTT_PROVISIONING_TIMEOUT_MS: int(100, 60_000).default(5_000),
    /** Broker URL handed to agents at enrollment. Default: MQTT_URL, or the embedded broker. */
    MQTT_PUBLIC_URL: z
      .string()
      .regex(/^(mqtts?|wss?):\/\//, 'must be an mqtt(s):// or ws(s):// URL')
      .optional(),
    /**
     * TURN servers (comma-separated turn:/turns: URLs) for which the registrar issues
     * per-session credentials (TURN REST API: coturn `use-auth-secret`). Needs TURN_SECRET
     * or TURN_SECRET_FILE; no client ever gets a static TURN credential.
     */
    TURN_URLS: z
      .string()
      .transform((v) =>
        v
          .split(',')
          .map((u) => u.trim())
          .filter((u) => u !== ''),
      )
      .pipe(
        z
          .array(z.string().regex(/^turns?:[^\s,]{1,250}$/, 'each must be a turn: or turns: URL'))
          .min(1)
          .max(8),
      )
      .optional(),
    /** coturn's `static-auth-secret` (shared with the TURN servers). */
    TURN_SECRET: z.string().min(16, 'must be at least 16 characters').max(1024).optional(),
    /** A file holding TURN_SECRET (e.g. a container secret); takes precedence. */
    TURN_SECRET_FILE: z.string().min(1).optional(),
    /**
     * Presence backstop: a device still "online" after this many of its heartbeat intervals
     * (announced in its heartbeats; 30 s when unknown) plus PRESENCE_GRACE_S without a word
     * is marked offline. Covers what no last will reports: a broker crash or restart.
     */
    PRESENCE_TIMEOUT_HEARTBEATS: int(2, 100).default(3),
    PRESENCE_GRACE_S: int(0, 3600).default(10),
    /** How often each replica looks for such devices. */
    PRESENCE_SWEEP_INTERVAL_S: int(1, 3600).default(10),
    /** Built console (apps/console/dist) to serve at `/` (single-page app). Unset: API only. */
    CONSOLE_DIR: z.string().min(1).optional(),
    LOG_LEVEL: z
      .enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
      .default('info'),
  })
  .superRefine((c, ctx) => {
    if (c.MQTT_PROVISIONING !== 'dynsec') return;
    for (const key of ['MQTT_URL', 'MQTT_USERNAME', 'MQTT_PASSWORD'] as const) {
      if (c[key] === undefined) {
        ctx.addIssue({
          code: 'custom',
          path: [key],
          message:
            'required with MQTT_PROVISIONING=dynsec (an external Mosquitto and its dynsec admin account)',
        });
      }
    }
  })
  .transform((c) => {
    const dataDir = isAbsolute(c.DATA_DIR) ? c.DATA_DIR : resolve(c.DATA_DIR);
    return {
      registrarId: c.REGISTRAR_ID,
      host: c.HOST,
      port: c.PORT,
      databaseUrl: c.DATABASE_URL,
      dataDir,
      registrarKeyFile: c.REGISTRAR_KEY_FILE ?? join(dataDir, 'registrar-key.jwk'),
      migrationsDir: c.MIGRATIONS_DIR,
      bodyLimitBytes: c.BODY_LIMIT_BYTES,
      loginRateLimit: c.LOGIN_RATE_LIMIT,
      loginRateWindowMs: c.LOGIN_RATE_WINDOW_MS,
      sessionTtlMs: c.SESSION_TTL_HOURS * 3_600_000,
      cookieSecure: c.COOKIE_SECURE,
      trustProxy: c.TRUST_PROXY,
      bootstrap: {
        orgName: c.BOOTSTRAP_ORG_NAME,
        adminEmail: c.BOOTSTRAP_ADMIN_EMAIL.toLowerCase(),
        adminPassword: c.BOOTSTRAP_ADMIN_PASSWORD,
      },
      enrollRateLimit: c.ENROLL_RATE_LIMIT,
      enrollNonceTtlMs: c.ENROLL_NONCE_TTL_MS,
      claimCodeMaxTtlMs: c.CLAIM_CODE_MAX_TTL_HOURS * 3_600_000,
      mqtt: {
        url: c.MQTT_URL,
        username: c.MQTT_USERNAME,
        password: c.MQTT_PASSWORD,
        host: c.MQTT_HOST,
        port: c.MQTT_PORT,
        publicUrl: c.MQTT_PUBLIC_URL,
        provisioning: c.MQTT_PROVISIONING,
        provisioningTimeoutMs: c.MQTT_PROVISIONING_TIMEOUT_MS,
      },
      presence: {
        timeoutHeartbeats: c.PRESENCE_TIMEOUT_HEARTBEATS,
        graceMs: c.PRESENCE_GRACE_S * 1000,
        sweepIntervalMs: c.PRESENCE_SWEEP_INTERVAL_S * 1000,
      },
      consoleDir: c.CONSOLE_DIR,
      logLevel: c.LOG_LEVEL,
      turn: c.TURN_URLS ? { urls: c.TURN_URLS, secret: c.TURN_SECRET ?? '' } : undefined,
      turnSecretFile: c.TURN_SECRET_FILE,
    };
  });

export type RegistrarConfig = Omit<z.output<typeof configSchema>, 'turnSecretFile'>;

/** Variables that may also come from a file, `<NAME>_FILE` (which wins), like TURN_SECRET_FILE. */
const FILE_VARIANTS = ['DATABASE_URL', 'MQTT_PASSWORD', 'BOOTSTRAP_ADMIN_PASSWORD'] as const;

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/** Parses the environment (default: process.env); throws a readable ConfigError. */
export function loadConfig(env: Record<string, string | undefined> = process.env): RegistrarConfig {
  // Empty strings count as unset (a common way to clear a variable in compose files).
  const cleaned = Object.fromEntries(
    Object.entries(env).filter(([, v]) => v !== undefined && v !== ''),
  );
  // the file's content (trimmed) is then validated as the variable itself
  for (const name of FILE_VARIANTS) {
    const file = cleaned[`${name}_FILE`];
    if (file !== undefined) cleaned[name] = readSecretFile(`${name}_FILE`, file);
  }
  const parsed = configSchema.safeParse(cleaned);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.') || '(root)'}: ${i.message}`);
    throw new ConfigError(`invalid registrar configuration:\n${lines.join('\n')}`);
  }
  const { turnSecretFile, ...config } = parsed.data;
  if (config.turn) {
    const secret = turnSecretFile
      ? readSecretFile('TURN_SECRET_FILE', turnSecretFile)
      : config.turn.secret;
    if (secret.length < 16) {
      throw new ConfigError(
        'invalid registrar configuration:\n  TURN_URLS: needs TURN_SECRET or TURN_SECRET_FILE (at least 16 characters)',
      );
    }
    config.turn = { ...config.turn, secret };
  } else if (turnSecretFile || cleaned['TURN_SECRET']) {
    throw new ConfigError(
      'invalid registrar configuration:\n  TURN_SECRET: set without TURN_URLS (which TURN servers?)',
    );
  }
  return config;
}

function readSecretFile(variable: string, path: string): string {
  let value: string;
  try {
    value = readFileSync(path, 'utf8').trim();
  } catch (error) {
    throw new ConfigError(
      `invalid registrar configuration:\n  ${variable}: cannot read ${path} (${(error as NodeJS.ErrnoException).code ?? 'error'})`,
    );
  }
  if (value === '') {
    throw new ConfigError(`invalid registrar configuration:\n  ${variable}: ${path} is empty`);
  }
  return value;
}

/** Injection token for the config object. */
export const CONFIG = Symbol('RegistrarConfig');
