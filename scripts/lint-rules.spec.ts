// The workspace's architectural rules are enforced by ESLint; these tests prove the rules
// bite (a forbidden import fails) and do not over-reach (an allowed import passes).
import { join } from 'node:path';
import { ESLint } from 'eslint';
import tseslint from 'typescript-eslint';
import { beforeAll, describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..');

// Virtual files are linted without type information; the rules under test need none.
const eslint = new ESLint({
  cwd: root,
  overrideConfig: [
    { files: ['**/*.ts'], ...tseslint.configs.disableTypeChecked },
    { files: ['**/*.ts'], languageOptions: { parserOptions: { projectService: false } } },
  ],
});

async function ruleIdsFor(file: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: join(root, file) });
  return (result?.messages ?? []).map((m) => m.ruleId ?? m.message);
}

describe('module boundaries', () => {
  beforeAll(async () => {
    // The Nx rule reads the project graph; make sure it is computed.
    const { createProjectGraphAsync } = await import('@nx/devkit');
    await createProjectGraphAsync({ exitOnError: false });
  }, 60_000);

  it('forbids a lib importing an app by package name', async () => {
    const ids = await ruleIdsFor(
      'libs/peer-http/src/boundary-fixture.ts',
      "import { x } from '@peerfetch/registrar';\nexport const y = x;\n",
    );
    expect(ids).toContain('@nx/enforce-module-boundaries');
  });

  it('forbids a lib importing an app by relative path', async () => {
    const ids = await ruleIdsFor(
      'libs/crypto/src/boundary-fixture.ts',
      "import { x } from '../../../apps/edge-agent/src/main.js';\nexport const y = x;\n",
    );
    expect(ids).toContain('@nx/enforce-module-boundaries');
  });

  it('allows an app importing a lib', async () => {
    const ids = await ruleIdsFor(
      'apps/edge-agent/src/boundary-fixture.ts',
      "import * as http from '@peerfetch/peer-http';\nexport const y = http;\n",
    );
    expect(ids).not.toContain('@nx/enforce-module-boundaries');
  });
});

describe('browser-safe entry points', () => {
  it.each([
    [
      'libs/peer-http/src/fixture.ts',
      "import { readFile } from 'node:fs';\nexport { readFile };\n",
    ],
    [
      'libs/crypto/src/fixture.ts',
      "import { createHash } from 'crypto';\nexport { createHash };\n",
    ],
    ['libs/peer-http/src/fixture.ts', "import ndc from 'node-datachannel';\nexport { ndc };\n"],
  ])('refuses Node-only imports in %s', async (file, code) => {
    expect(await ruleIdsFor(file, code)).toContain('no-restricted-imports');
  });

  it('refuses Node globals in browser code', async () => {
    const ids = await ruleIdsFor(
      'libs/peer-http/src/fixture.ts',
      'export const b = Buffer.from([1]);\n',
    );
    expect(ids).toContain('no-restricted-globals');
  });

  it('allows Node built-ins in the Node entry point', async () => {
    const ids = await ruleIdsFor(
      'libs/peer-http/src/node/fixture.ts',
      "import { readFile } from 'node:fs';\nexport { readFile };\n",
    );
    expect(ids).not.toContain('no-restricted-imports');
  });
});
