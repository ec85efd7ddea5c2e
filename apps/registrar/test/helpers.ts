// Test helpers: a fresh PostgreSQL database per test file on the machine's server (the
// tests fail, never skip, when it is unreachable), a registrar on an ephemeral port, a
// small JSON client, and a simulated agent that enrolls with a real key and proof.
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createEnrollmentProof, createSigner, generateKeyPair } from '@peerfetch/crypto';
import pg from 'pg';
import { createRegistrar, type Registrar } from '../src/app.js';
import { hashPassword } from '../src/auth/password.js';
import { loadConfig } from '../src/config/config.js';
import { UsersRepository } from '../src/users/users.repository.js';

export const ADMIN_EMAIL = 'admin@example.com';
export const ADMIN_PASSWORD = 'correct horse battery staple';

/**
 * A service test/global-setup.ts chose for this run (containers, given URLs or the local
 * services). Missing means the spec runs without that setup: an error, never a guess.
 */
export function testService(name: 'PEERFETCH_TEST_DATABASE_URL' | 'PEERFETCH_TEST_MQTT_URL') {
  const url = process.env[name];
  if (!url || !process.env['PEERFETCH_TEST_SERVICES']) {
    throw new Error(`${name} is unset: run the registrar's tests through its vitest.config.ts`);
  }
  return url;
}

const SERVER_URL = testService('PEERFETCH_TEST_DATABASE_URL');

export interface TestDatabase {
  url: string;
  /** Runs SQL directly against the test database (test set-up only). */
  sql<T = Record<string, unknown>>(text: string, params?: unknown[]): Promise<T[]>;
  drop(): Promise<void>;
}

/** CREATE DATABASE pf_test_<random> on the real server; drop() removes it. */
export async function createTestDatabase(): Promise<TestDatabase> {
  const name = `pf_test_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: SERVER_URL });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(SERVER_URL);
  url.pathname = `/${name}`;
  const pool = new pg.Pool({ connectionString: url.toString(), max: 2 });
  // drop() terminates the database's sessions (WITH FORCE); a client of this pool still
  // closing then receives "terminating connection" — expected at teardown, not an error.
  pool.on('error', () => undefined);
  pool.on('connect', (client) => client.on('error', () => undefined));
  return {
    url: url.toString(),
    sql: async (text, params) => (await pool.query(text, params)).rows,
    async drop() {
      await pool.end();
      const c = new pg.Client({ connectionString: SERVER_URL });
      await c.connect();
      try {
        await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await c.end();
      }
    },
  };
}

export async function tempDir(): Promise<{ path: string; remove(): Promise<void> }> {
  const path = await mkdtemp(join(tmpdir(), 'pf-registrar-'));
  return { path, remove: () => rm(path, { recursive: true, force: true }) };
}

export function startRegistrar(env: Record<string, string | undefined>): Promise<Registrar> {
  return createRegistrar(
    loadConfig({
      PORT: '0',
      MQTT_PORT: '0',
      LOG_LEVEL: 'silent',
      BOOTSTRAP_ADMIN_EMAIL: ADMIN_EMAIL,
      BOOTSTRAP_ADMIN_PASSWORD: ADMIN_PASSWORD,
      ...env,
    }),
  );
}

/** Seeds another organization as the bootstrap does; its owner's password is ADMIN_PASSWORD. */
export async function seedOrg(
  registrar: Registrar,
  org: { orgName: string; email: string; name: string },
): Promise<void> {
  await registrar.app
    .get(UsersRepository)
    .createOrgWithOwner({ ...org, passwordHash: await hashPassword(ADMIN_PASSWORD) });
}

/** A second organization ("other", owner other@example.com), its owner signed in. */
export async function signInToOtherOrg(registrar: Registrar): Promise<Api> {
  await seedOrg(registrar, { orgName: 'other', email: 'other@example.com', name: 'Other' });
  return new Api(registrar.url).login('other@example.com');
}

export interface ApiResponse<T = any> {
  status: number;
  body: T;
  text: string;
  headers: Headers;
}

/** Minimal JSON client for one registrar. */
export class Api {
  constructor(
    readonly baseUrl: string,
    public token?: string,
  ) {}

  async request<T = any>(
    method: string,
    path: string,
    opts: {
      body?: unknown;
      raw?: string;
      headers?: Record<string, string>;
      token?: string | null;
    } = {},
  ): Promise<ApiResponse<T>> {
    const headers: Record<string, string> = { ...opts.headers };
    const token = opts.token === null ? undefined : (opts.token ?? this.token);
    if (token) headers['authorization'] = `Bearer ${token}`;
    let body: string | undefined;
    if (opts.raw !== undefined) {
      body = opts.raw;
      headers['content-type'] ??= 'application/json';
    } else if (opts.body !== undefined) {
      body = JSON.stringify(opts.body);
      headers['content-type'] ??= 'application/json';
    }
    const res = await fetch(`${this.baseUrl}${path}`, {
      method,
      headers,
      ...(body !== undefined ? { body } : {}),
    });
    const text = await res.text();
    let parsed: unknown = undefined;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      parsed = undefined;
    }
    return { status: res.status, body: parsed as T, text, headers: res.headers };
  }

  get<T = any>(path: string, token?: string | null) {
    return this.request<T>('GET', path, token === undefined ? {} : { token });
  }
  post<T = any>(path: string, body?: unknown) {
    return this.request<T>('POST', path, body === undefined ? {} : { body });
  }
  patch<T = any>(path: string, body: unknown) {
    return this.request<T>('PATCH', path, { body });
  }
  put<T = any>(path: string, body: unknown) {
    return this.request<T>('PUT', path, { body });
  }
  delete<T = any>(path: string) {
    return this.request<T>('DELETE', path);
  }

  /** Signs in and keeps the token for later requests. */
  async login(email = ADMIN_EMAIL, password = ADMIN_PASSWORD): Promise<this> {
    const r = await this.request('POST', '/api/auth/login', {
      body: { email, password },
      token: null,
    });
    if (r.status !== 200) throw new Error(`login failed: ${r.status} ${r.text}`);
    this.token = (r.body as { token: string }).token;
    return this;
  }
}

/** A simulated agent identity that can enroll with a claim code. */
export function newAgent() {
  const signer = createSigner(generateKeyPair());
  return {
    signer,
    /** Builds the POST /api/enroll body for a fresh challenge. */
    async enrollBody(api: Api, code: string, extra: Record<string, unknown> = {}) {
      const challenge = await api.request('POST', '/api/enroll/challenge', { token: null });
      if (challenge.status !== 200) throw new Error(`challenge failed: ${challenge.text}`);
      const nonce = (challenge.body as { nonce: string }).nonce;
      const { publicKey, proof } = await createEnrollmentProof({ code, nonce, signer });
      return { code, nonce, publicKey, proof, agentVersion: '0.1.0-test', ...extra };
    },
    async enroll(api: Api, code: string, extra: Record<string, unknown> = {}) {
      const body = await this.enrollBody(api, code, extra);
      return api.request('POST', '/api/enroll', { body, token: null });
    },
  };
}
