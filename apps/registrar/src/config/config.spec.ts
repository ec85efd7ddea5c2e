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
});
