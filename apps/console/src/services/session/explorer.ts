// Pure helpers of the API explorer: header text ⇄ pairs, method rules, response display.
import type { GrantRole } from '../api-types.js';

export const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'] as const;
export type ExplorerMethod = (typeof METHODS)[number];

/** The agent's rule (@peerfetch/crypto canPerform): viewers read only. */
export function methodAllowed(role: GrantRole | null, method: ExplorerMethod): boolean {
  if (method === 'GET' || method === 'HEAD') return true;
  return role === 'operator' || role === 'admin';
}

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/** `name: value` per line; blank lines ignored. Throws on a malformed line. */
export function parseHeaderLines(text: string): [string, string][] {
  const out: [string, string][] = [];
  for (const [i, raw] of text.split(/\r?\n/).entries()) {
    const line = raw.trim();
    if (line === '') continue;
    const colon = line.indexOf(':');
    const name = colon > 0 ? line.slice(0, colon).trim() : '';
    if (!TOKEN.test(name)) throw new Error(`Line ${i + 1}: expected "name: value".`);
    out.push([name.toLowerCase(), line.slice(colon + 1).trim()]);
  }
  return out;
}

/** Normalises a path typed by the user: leading slash, no scheme or host. */
export function normalizePath(input: string): string {
  const text = input.trim();
  if (/^[a-z][a-z0-9+.-]*:/i.test(text)) {
    const url = new URL(text);
    return `${url.pathname}${url.search}`;
  }
  return text.startsWith('/') ? text : `/${text}`;
}

export const MAX_SHOWN_BODY = 256 * 1024;

/** Pretty JSON when the body is JSON, the text otherwise (truncated for display). */
export function prettyBody(text: string, contentType: string | null): string {
  const shown = text.length > MAX_SHOWN_BODY ? `${text.slice(0, MAX_SHOWN_BODY)}\n…` : text;
  if (contentType?.includes('json') || /^\s*[[{]/.test(text)) {
    try {
      return JSON.stringify(JSON.parse(text), null, 2);
    } catch {
      return shown;
    }
  }
  return shown;
}
