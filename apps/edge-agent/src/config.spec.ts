import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, normalizeOrigin } from './config.js';

function configError(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

describe('normalizeOrigin', () => {
  it.each([
    ['http://127.0.0.1:8778', 'http://127.0.0.1:8778'],
    ['http://127.0.0.1:8778/', 'http://127.0.0.1:8778'],
    ['HTTP://LocalHost:80', 'http://localhost'],
    ['https://[::1]:8443', 'https://[::1]:8443'],
  ])('%s → %s', (input, expected) => {
    expect(normalizeOrigin(input)).toBe(expected);
  });

  it.each([
    'ftp://127.0.0.1',
    'file:///etc/passwd',
    'http://user:pw@127.0.0.1:8778',
    'http://user@127.0.0.1:8778',
    'http://127.0.0.1:8778/api',
    'http://127.0.0.1:8778/?q=1',
    'http://127.0.0.1:8778/#x',
    '127.0.0.1:8778',
    'not a url',
  ])('rejects %s', (input) => {
    expect(() => normalizeOrigin(input)).toThrow();
  });
});

describe('loadConfig', () => {
  it('applies defaults', () => {
    const c = loadConfig({ env: {} });
    expect(c).toMatchObject({
      dataDir: '/data',
      clipsDir: '/clips',
      upstreamOrigins: [],
      maxSessions: 8,
      idleTimeoutS: 300,
      logLevel: 'info',
      heartbeatIntervalS: 30,
      webrtc: true,
    });
    expect(c.registrarUrl).toBeUndefined();
    expect(c.claimCode).toBeUndefined();
  });

  it('reads env, normalizes and dedupes origins', () => {
    const c = loadConfig({
      env: {
        REGISTRAR_URL: 'https://registrar.example/',
        UPSTREAM_ORIGINS: 'http://127.0.0.1:8778/, http://127.0.0.1:8778 ,https://LOCALHOST:443',
        DEFAULT_UPSTREAM: 'http://127.0.0.1:8778',
        MAX_SESSIONS: '3',
        CLAIM_CODE: 'ABCD-1234',
        MQTT_URL: 'mqtt://127.0.0.1:1883',
        WEBRTC: 'off',
      },
    });
    expect(c.registrarUrl).toBe('https://registrar.example');
    expect(c.upstreamOrigins).toEqual(['http://127.0.0.1:8778', 'https://localhost']);
    expect(c.defaultUpstream).toBe('http://127.0.0.1:8778');
    expect(c.maxSessions).toBe(3);
    expect(c.claimCode).toBe('ABCD-1234');
    expect(c.webrtc).toBe(false);
  });

  it('lists every bad key with its env name', () => {
    const err = configError(() =>
      loadConfig({
        env: {
          REGISTRAR_URL: 'ftp://x',
          DATA_DIR: 'relative/dir',
          UPSTREAM_ORIGINS: 'http://127.0.0.1:1/path,http://a:b@127.0.0.1:2',
          MAX_SESSIONS: 'many',
          LOG_LEVEL: 'loud',
          MQTT_URL: 'http://broker',
        },
      }),
    );
    const keys = err.issues.map((i) => i.key);
    expect(keys).toEqual(
      expect.arrayContaining([
        'registrarUrl (REGISTRAR_URL)',
        'dataDir (DATA_DIR)',
        'upstreamOrigins.0 (UPSTREAM_ORIGINS)',
        'upstreamOrigins.1 (UPSTREAM_ORIGINS)',
        'maxSessions (MAX_SESSIONS)',
        'logLevel (LOG_LEVEL)',
        'mqttUrl (MQTT_URL)',
      ]),
    );
    expect(err.message).toContain('credentials');
    expect(err.message).toContain('maxSessions (MAX_SESSIONS)');
  });

  it('requires defaultUpstream to be allow-listed', () => {
    const err = configError(() => loadConfig({ env: { DEFAULT_UPSTREAM: 'http://127.0.0.1:9' } }));
    expect(err.issues[0]?.key).toBe('defaultUpstream (DEFAULT_UPSTREAM)');
  });

  it('merges a YAML file under env and overrides, and rejects unknown file keys', () => {
    const dir = mkdtempSync(join(tmpdir(), 'agent-config-'));
    const yaml = join(dir, 'agent.yaml');
    writeFileSync(
      yaml,
      'dataDir: /var/lib/agent\nupstreamOrigins:\n  - http://127.0.0.1:8778\nmaxSessions: 4\nlogLevel: debug\n',
    );
    const c = loadConfig({
      env: { EDGE_AGENT_CONFIG: yaml, MAX_SESSIONS: '6' },
      overrides: { logLevel: 'warn' },
    });
    expect(c.dataDir).toBe('/var/lib/agent');
    expect(c.upstreamOrigins).toEqual(['http://127.0.0.1:8778']);
    expect(c.maxSessions).toBe(6);
    expect(c.logLevel).toBe('warn');

    const json = join(dir, 'agent.json');
    writeFileSync(json, JSON.stringify({ dataDir: '/x', bogus: 1 }));
    const err = configError(() => loadConfig({ env: {}, file: json }));
    expect(err.message).toMatch(/unknown key\(s\): bogus/);
  });

  it('reports an unreadable or unparsable file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'agent-config-'));
    expect(
      configError(() => loadConfig({ env: {}, file: join(dir, 'none.yaml') })).message,
    ).toMatch(/cannot read/);
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, '{');
    expect(configError(() => loadConfig({ env: {}, file: bad })).message).toMatch(/cannot parse/);
  });
});
