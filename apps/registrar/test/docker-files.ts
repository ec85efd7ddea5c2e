// Readers for docker/registrar.Dockerfile and docker/compose.yml, shared by
// test/dockerfile.spec.ts and test/compose.spec.ts (Docker cannot run here: these files
// are checked by parsing them and by running what they run as processes).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';

export const ROOT = join(import.meta.dirname, '..', '..', '..');
export const DOCKER_DIR = join(ROOT, 'docker');

export interface Dockerfile {
  text: string;
  /** Instructions with continuation lines joined, comments and blank lines dropped. */
  lines: string[];
  /** Instructions of the last stage (`FROM … AS runtime` onwards). */
  runtime: string[];
  /** Arguments of every `NAME …` instruction of the runtime stage. */
  instr(name: string): string[];
  /** The last `NAME [json]` instruction of the runtime stage, parsed. */
  json(name: string): string[];
  /** ENV of the runtime stage (`ENV A=1 B=2`, several instructions merged). */
  env(): Record<string, string>;
}

export function readDockerfile(name: string): Dockerfile {
  const text = readFileSync(join(DOCKER_DIR, name), 'utf8');
  const lines = text
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));
  const runtime = lines.slice(lines.findIndex((l) => /^FROM .* AS runtime$/.test(l)));
  const instr = (n: string): string[] =>
    runtime.filter((l) => l.startsWith(`${n} `)).map((l) => l.slice(n.length + 1).trim());
  return {
    text,
    lines,
    runtime,
    instr,
    json: (n) => JSON.parse(instr(n).at(-1) ?? 'null') as string[],
    env: () =>
      Object.fromEntries(
        instr('ENV')
          .flatMap((l) => l.split(/\s+/))
          .map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]),
      ),
  };
}

export interface ComposeService {
  image?: string;
  build?: { context: string; dockerfile: string };
  profiles?: string[];
  user?: string;
  entrypoint?: string[];
  command?: string[];
  environment?: Record<string, string | number | boolean | null>;
  secrets?: string[];
  volumes?: string[];
  tmpfs?: string[];
  ports?: string[];
  depends_on?: Record<string, { condition: string }>;
  healthcheck?: { test?: string[]; disable?: boolean };
  restart?: string;
  read_only?: boolean;
  privileged?: boolean;
  cap_drop?: string[];
  cap_add?: string[];
  security_opt?: string[];
  network_mode?: string;
  pid?: string;
  ipc?: string;
}

export interface ComposeFile {
  name: string;
  services: Record<string, ComposeService>;
  secrets: Record<string, { file?: string; environment?: string }>;
  volumes: Record<string, unknown>;
}

export function readCompose(): ComposeFile {
  // `<<` merge keys (YAML 1.1, as Compose reads them) for the x-hardened anchors
  return parseYaml(readFileSync(join(DOCKER_DIR, 'compose.yml'), 'utf8'), {
    merge: true,
  }) as ComposeFile;
}

/**
 * A Compose value with `${VAR}`, `${VAR:-default}` and `$$` resolved the way Compose does,
 * from `vars` (the shell or docker/.env; none by default: the file's own defaults).
 */
export function interpolate(value: string, vars: Record<string, string> = {}): string {
  return value.replace(
    /\$\$|\$\{([A-Z0-9_]+)(?::?-([^}]*))?\}/g,
    (m, name?: string, def?: string) => (m === '$$' ? '$' : (vars[name ?? ''] ?? def ?? '')),
  );
}

/** A service's environment with every value interpolated (booleans and numbers as text). */
export function serviceEnv(
  service: ComposeService,
  vars: Record<string, string> = {},
): Record<string, string> {
  return Object.fromEntries(
    Object.entries(service.environment ?? {}).map(([k, v]) => [
      k,
      interpolate(v === null ? '' : String(v), vars),
    ]),
  );
}
