import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from './config.js';

describe('loadConfig', () => {
  it('defaults to embedded services on loopback', () => {
    const c = loadConfig({});
    expect(c.host).toBe('127.0.0.1');
    expect(c.port).toBe(8790);
    expect(c.databaseUrl).toBeUndefined();
    expect(c.registrarKeyFile.endsWith('registrar-key.jwk')).toBe(true);
    expect(c.migrationsDir.endsWith('prisma/migrations')).toBe(true);
  });

  it('parses numbers and booleans and treats empty strings as unset', () => {
    const c = loadConfig({ PORT: '0', COOKIE_SECURE: 'true', DATABASE_URL: '' });
    expect(c.port).toBe(0);
    expect(c.cookieSecure).toBe(true);
    expect(c.databaseUrl).toBeUndefined();
  });

  it('fails fast with every problem named', () => {
    let error: unknown;
    try {
      loadConfig({ PORT: 'eighty', DATABASE_URL: 'mysql://x', BOOTSTRAP_ADMIN_PASSWORD: 'short' });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const message = (error as Error).message;
    expect(message).toContain('PORT');
    expect(message).toContain('DATABASE_URL');
    expect(message).toContain('BOOTSTRAP_ADMIN_PASSWORD');
  });

  it('lower-cases the bootstrap e-mail', () => {
    expect(loadConfig({ BOOTSTRAP_ADMIN_EMAIL: 'Root@Example.COM' }).bootstrap.adminEmail).toBe(
      'root@example.com',
    );
  });

  describe('TURN', () => {
    const secret = 'a-long-shared-turn-secret';

    it('is off by default and takes URLs with a secret', () => {
      expect(loadConfig({}).turn).toBeUndefined();
      const c = loadConfig({
        TURN_URLS: 'turn:turn.example.com:3478?transport=udp, turns:turn.example.com:5349',
        TURN_SECRET: secret,
      });
      expect(c.turn).toEqual({
        urls: ['turn:turn.example.com:3478?transport=udp', 'turns:turn.example.com:5349'],
        secret,
      });
    });

    it('reads the secret from a file (trimmed), which wins over the variable', () => {
      const dir = mkdtempSync(join(tmpdir(), 'pf-turn-'));
      try {
        const file = join(dir, 'turn-secret');
        writeFileSync(file, `${secret}-from-file\n`, { mode: 0o600 });
        const c = loadConfig({
          TURN_URLS: 'turn:t:3478',
          TURN_SECRET: secret,
          TURN_SECRET_FILE: file,
        });
        expect(c.turn?.secret).toBe(`${secret}-from-file`);
        expect(() =>
          loadConfig({ TURN_URLS: 'turn:t:3478', TURN_SECRET_FILE: join(dir, 'missing') }),
        ).toThrow(/TURN_SECRET_FILE: cannot read .*ENOENT/);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });

    it('refuses half or bad TURN settings, naming the variable', () => {
      expect(() => loadConfig({ TURN_URLS: 'turn:t:3478' })).toThrow(
        /TURN_URLS: needs TURN_SECRET/,
      );
      expect(() => loadConfig({ TURN_SECRET: secret })).toThrow(
        /TURN_SECRET: set without TURN_URLS/,
      );
      expect(() => loadConfig({ TURN_URLS: 'stun:t:3478', TURN_SECRET: secret })).toThrow(
        /TURN_URLS/,
      );
      expect(() => loadConfig({ TURN_URLS: 'turn:t:3478', TURN_SECRET: 'short' })).toThrow(
        /TURN_SECRET/,
      );
    });
  });

  describe('MQTT provisioning', () => {
    it('provisions nothing by default', () => {
      expect(loadConfig({}).mqtt).toMatchObject({
        provisioning: 'none',
        provisioningTimeoutMs: 5000,
      });
    });

    it('takes dynsec with an external broker and its admin account', () => {
      const c = loadConfig({
        MQTT_PROVISIONING: 'dynsec',
        MQTT_URL: 'mqtt://broker:1883',
        MQTT_USERNAME: 'pf-registrar',
        MQTT_PASSWORD: 'secret',
        MQTT_PROVISIONING_TIMEOUT_MS: '2000',
      });
      expect(c.mqtt).toMatchObject({ provisioning: 'dynsec', provisioningTimeoutMs: 2000 });
    });

    it('refuses dynsec without the broker or the account, naming each variable', () => {
      let message = '';
      try {
        loadConfig({ MQTT_PROVISIONING: 'dynsec', MQTT_USERNAME: 'pf-registrar' });
      } catch (e) {
        message = (e as Error).message;
      }
      expect(message).toContain('MQTT_URL: required with MQTT_PROVISIONING=dynsec');
      expect(message).toContain('MQTT_PASSWORD: required with MQTT_PROVISIONING=dynsec');
      expect(message).not.toContain('MQTT_USERNAME');
      expect(() => loadConfig({ MQTT_PROVISIONING: 'acl-file' })).toThrow(/MQTT_PROVISIONING/);
    });
  });

  describe('secrets from files (<NAME>_FILE, e.g. container secrets)', () => {
    it('reads DATABASE_URL, MQTT_PASSWORD and BOOTSTRAP_ADMIN_PASSWORD (trimmed); the file wins', () => {
      const dir = mkdtempSync(join(tmpdir(), 'pf-secrets-'));
      try {
        const file = (name: string, value: string): string => {
          writeFileSync(join(dir, name), value, { mode: 0o600 });
          return join(dir, name);
        };
        const c = loadConfig({
          DATABASE_URL: 'postgresql://plain@localhost/plain',
          DATABASE_URL_FILE: file('db', 'postgresql://pf:s3cret@postgres:5432/peerfetch\n'),
          MQTT_URL: 'mqtt://mosquitto:1883',
          MQTT_USERNAME: 'pf-registrar',
          MQTT_PASSWORD_FILE: file('mqtt', 'broker-password\n'),
          MQTT_PROVISIONING: 'dynsec',
          BOOTSTRAP_ADMIN_PASSWORD_FILE: file('admin', '  a long admin password \n'),
        });
        expect(c.databaseUrl).toBe('postgresql://pf:s3cret@postgres:5432/peerfetch');
        expect(c.mqtt).toMatchObject({ password: 'broker-password', provisioning: 'dynsec' });
        expect(c.bootstrap.adminPassword).toBe('a long admin password');
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });

    it('names the variable when the file is missing, empty or its content invalid', () => {
      const dir = mkdtempSync(join(tmpdir(), 'pf-secrets-'));
      try {
        expect(() => loadConfig({ DATABASE_URL_FILE: join(dir, 'missing') })).toThrow(
          /DATABASE_URL_FILE: cannot read .*missing \(ENOENT\)/,
        );
        writeFileSync(join(dir, 'empty'), '\n');
        expect(() => loadConfig({ MQTT_PASSWORD_FILE: join(dir, 'empty') })).toThrow(
          /MQTT_PASSWORD_FILE: .*empty is empty/,
        );
        writeFileSync(join(dir, 'short'), 'short\n');
        expect(() => loadConfig({ BOOTSTRAP_ADMIN_PASSWORD_FILE: join(dir, 'short') })).toThrow(
          /BOOTSTRAP_ADMIN_PASSWORD:/,
        );
        writeFileSync(join(dir, 'mysql'), 'mysql://x\n');
        let message = '';
        try {
          loadConfig({ DATABASE_URL_FILE: join(dir, 'mysql') });
        } catch (e) {
          message = (e as Error).message;
        }
        expect(message).toContain('DATABASE_URL: must be a postgresql:// URL');
        expect(message).not.toContain('mysql://x'); // a secret's value is never echoed
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });
});
