// @vitest-environment node
// The platform seam is enforced by lint: host APIs are banned outside src/platform/.
import { ESLint } from 'eslint';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = resolve(import.meta.dirname, '..');
const eslint = new ESLint({ cwd: root });

async function rules(file: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: resolve(root, file) });
  return (result?.messages ?? []).map((m) => `${m.ruleId ?? 'fatal'}: ${m.message}`);
}

const HOST_CALLS = `
export const a = localStorage.getItem('k');
export const b = () => fetch('/api/devices');
export const c = () => new WebSocket('wss://x');
export const d = () => new RTCPeerConnection();
export const e = () => window.localStorage;
export const f = () => navigator.clipboard;
`;

// Building the type-aware program takes seconds on a busy 2-core machine.
describe('platform seam lint', { timeout: 120_000 }, () => {
  it('bans host APIs in app code', async () => {
    const found = await rules('src/stores/fleet.ts', HOST_CALLS);
    expect(found.filter((m) => m.startsWith('no-restricted-'))).toHaveLength(6);
    expect(found.every((m) => m.includes('platform seam'))).toBe(true);
  });

  it('allows them inside src/platform/', async () => {
    const found = await rules('src/platform/browser.ts', HOST_CALLS);
    expect(found.filter((m) => m.startsWith('no-restricted-'))).toEqual([]);
  });
});
