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
});
