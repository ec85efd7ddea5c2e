// Docker cannot build here; this keeps docker/edge-agent.Dockerfile consistent with what
// test/cli.spec.ts runs as a process (start command, env, volumes, user, signals) and
// with the repository (every path it copies or builds exists).
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..', '..', '..');
const text = readFileSync(join(ROOT, 'docker', 'edge-agent.Dockerfile'), 'utf8');
// join continuation lines, drop comments
const lines = text
  .replace(/\\\n/g, ' ')
  .split('\n')
  .map((l) => l.trim())
  .filter((l) => l !== '' && !l.startsWith('#'));
const runtime = lines.slice(lines.findIndex((l) => /^FROM .* AS runtime$/.test(l)));
const instr = (name: string): string[] =>
  runtime.filter((l) => l.startsWith(`${name} `)).map((l) => l.slice(name.length + 1).trim());
const json = (name: string): string[] => JSON.parse(instr(name).at(-1) ?? 'null') as string[];

describe('edge-agent Dockerfile', () => {
  it('is multi-stage and builds the arm/v7 native addon from source', () => {
    expect(lines.filter((l) => l.startsWith('FROM '))).toHaveLength(3);
    expect(text).toContain('FROM --platform=$BUILDPLATFORM');
    expect(text).toMatch(/TARGETARCH" = "arm".*cmake-js build/s);
  });

  it('runs `node dist/cli.js run` under tini as a non-root user, SIGTERM to stop', () => {
    expect([...json('ENTRYPOINT'), ...json('CMD')]).toEqual([
      '/usr/bin/tini',
      '--',
      'node',
      '/app/apps/edge-agent/dist/cli.js',
      'run',
    ]);
    const user = instr('USER').at(-1) ?? '';
    expect(user).not.toMatch(/^(root|0)(:|$)/);
    expect(instr('STOPSIGNAL')).toEqual(['SIGTERM']);
    expect(json('VOLUME')).toEqual(['/data', '/clips']);
    const env = instr('ENV').join(' ');
    expect(env).toContain('DATA_DIR=/data');
    expect(env).toContain('CLIPS_DIR=/clips');
  });

  it('health-checks with `status --health`', () => {
    const hc = instr('HEALTHCHECK').at(-1) ?? '';
    expect(hc).toContain('CMD ["node", "/app/apps/edge-agent/dist/cli.js", "status", "--health"]');
  });

  it('copies and builds only paths that exist, and the bin entry matches', () => {
    const sources = lines
      .filter((l) => l.startsWith('COPY ') && !l.includes('--from='))
      .flatMap((l) => l.slice(5).trim().split(/\s+/).slice(0, -1));
    expect(sources.length).toBeGreaterThan(5);
    for (const s of sources) expect(existsSync(join(ROOT, s)), s).toBe(true);
    for (const m of text.matchAll(/tsc -p (\S+)/g))
      expect(existsSync(join(ROOT, m[1] as string)), m[1]).toBe(true);
    const pkg = JSON.parse(readFileSync(join(ROOT, 'apps/edge-agent/package.json'), 'utf8')) as {
      bin: Record<string, string>;
    };
    expect(pkg.bin['edge-agent']).toBe('./dist/cli.js');
  });
});
