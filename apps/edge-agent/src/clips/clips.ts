// Built-in clips routes (fetch-style handler):
//
//   GET|HEAD <prefix>          → JSON list of the clips directory (top level, regular files)
//   GET|HEAD <prefix>/<name>   → the file, streamed from disk (bounded memory), with
//                                Range/206/416, ETag/If-None-Match/304, If-Range,
//                                If-Match/If-Unmodified-Since/412, If-Modified-Since/304.
//
// Names are one path segment. Traversal is impossible by construction: percent-encoded
// `/`, `\` and NUL are refused before decoding; `/`, `\`, NUL, control characters, `.`,
// `..` and dot-files are refused after; the name is resolved with realpath and must stay
// inside the (realpath of the) clips dir, so a symlink pointing outside is a 404; the file
// is then opened with O_NOFOLLOW and checked to be a regular file via fstat on the handle
// that is actually streamed.
//
// ETag: strong, `"<inode>-<size>-<mtime ns>"` (base 36). Clips are written once, so
// inode + size + nanosecond mtime identify the bytes; a strong validator is what If-Range
// requires (RFC 9110 §13.1.5 never matches a weak one), i.e. what makes resumed downloads
// and seeking a cached partial clip work. A file rewritten in place with the same size
// within the same mtime tick would be missed: acceptable for write-once recordings.
import { constants } from 'node:fs';
import { type FileHandle, open, readdir, realpath } from 'node:fs/promises';
import { join, sep } from 'node:path';
import { Readable } from 'node:stream';
import { errorResponse, jsonResponse } from '../http/json.js';
import { contentTypeOf } from './content-type.js';
import { mp4DurationSeconds } from './mp4.js';
import { parseRange } from './range.js';

export const CLIPS_PREFIX = '/_agent/clips';

export interface ClipsHandlerOptions {
  clipsDir: string;
  /** Route prefix (default `/_agent/clips`). */
  prefix?: string;
  /** Cap on listed entries (newest first). Default 1000. */
  maxListEntries?: number;
}

export interface ClipInfo {
  name: string;
  size: number;
  mtime: string;
  mtimeMs: number;
  contentType: string;
  durationS?: number;
}

export type FetchHandler = (request: Request) => Promise<Response>;

const FILE_CACHE_CONTROL = 'private, no-cache';
const DURATION_EXT = new Set(['video/mp4', 'audio/mp4', 'video/quicktime']);

export class BadClipName extends Error {}

/** Validates one raw (still percent-encoded) path segment and returns the decoded name. */
export function decodeClipName(raw: string): string {
  if (/%(2f|5c|00)/i.test(raw)) throw new BadClipName('encoded separator or NUL');
  let name: string;
  try {
    name = decodeURIComponent(raw);
  } catch {
    throw new BadClipName('bad percent-encoding');
  }
  if (name === '' || name === '.' || name === '..') throw new BadClipName('empty or dot name');
  if (name.startsWith('.')) throw new BadClipName('hidden file');
  // eslint-disable-next-line no-control-regex
  if (/[/\\\u0000-\u001f\u007f]/.test(name)) throw new BadClipName('separator or control char');
  if (Buffer.byteLength(name) > 255) throw new BadClipName('name too long');
  return name;
}

interface OpenedClip {
  fh: FileHandle;
  size: number;
  mtimeMs: number;
  etag: string;
}

/** Opens `name` inside `root`, or undefined (404) when absent, outside, or not a file. */
async function openClip(rootReal: string, name: string): Promise<OpenedClip | undefined> {
  let real: string;
  try {
    real = await realpath(join(rootReal, name));
  } catch {
    return undefined;
  }
  if (!real.startsWith(rootReal + sep)) return undefined;
  let fh: FileHandle;
  try {
    fh = await open(real, constants.O_RDONLY | constants.O_NOFOLLOW);
  } catch {
    return undefined;
  }
  try {
    const st = await fh.stat({ bigint: true });
    if (!st.isFile()) {
      await fh.close();
      return undefined;
    }
    const etag = `"${st.ino.toString(36)}-${st.size.toString(36)}-${st.mtimeNs.toString(36)}"`;
    return { fh, size: Number(st.size), mtimeMs: Number(st.mtimeMs), etag };
  } catch (err) {
    await fh.close();
    throw err;
  }
}

function parseEtags(header: string): string[] {
  return header
    .split(',')
    .map((t) => t.trim())
    .filter((t) => t !== '');
}

const opaque = (tag: string): string => (tag.startsWith('W/') ? tag.slice(2) : tag);

function weakMatch(header: string, etag: string): boolean {
  return parseEtags(header).some((t) => t === '*' || opaque(t) === etag);
}

function strongMatch(header: string, etag: string): boolean {
  return parseEtags(header).some((t) => t === '*' || t === etag);
}

/** HTTP-date → whole seconds, or undefined when unparsable. */
function httpDateSeconds(value: string | null): number | undefined {
  if (value === null) return undefined;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? undefined : Math.floor(ms / 1000);
}

export function createClipsHandler(options: ClipsHandlerOptions): FetchHandler {
  const prefix = options.prefix ?? CLIPS_PREFIX;
  const maxList = options.maxListEntries ?? 1000;
  const durations = new Map<string, number | undefined>();

  async function list(rootReal: string, head: boolean): Promise<Response> {
    const entries = await readdir(rootReal, { withFileTypes: true });
    const clips: ClipInfo[] = [];
    for (const entry of entries) {
      if (entry.name.startsWith('.') || !(entry.isFile() || entry.isSymbolicLink())) continue;
      const clip = await openClip(rootReal, entry.name).catch(() => undefined);
      if (!clip) continue;
      try {
        const contentType = contentTypeOf(entry.name);
        const info: ClipInfo = {
          name: entry.name,
          size: clip.size,
          mtime: new Date(clip.mtimeMs).toISOString(),
          mtimeMs: Math.floor(clip.mtimeMs),
          contentType,
        };
        if (DURATION_EXT.has(contentType)) {
          const key = `${entry.name}\0${clip.etag}`;
          if (!durations.has(key)) {
            if (durations.size >= 4096) durations.clear();
            durations.set(key, await mp4DurationSeconds(clip.fh, clip.size));
          }
          const d = durations.get(key);
          if (d !== undefined) info.durationS = d;
        }
        clips.push(info);
      } finally {
        await clip.fh.close();
      }
    }
    clips.sort((a, b) => b.mtimeMs - a.mtimeMs || a.name.localeCompare(b.name));
    const truncated = clips.length > maxList;
    const res = jsonResponse({ clips: clips.slice(0, maxList), truncated });
    return head ? new Response(null, { status: res.status, headers: res.headers }) : res;
  }

  async function serve(request: Request, rootReal: string, name: string): Promise<Response> {
    const clip = await openClip(rootReal, name);
    if (!clip) return errorResponse(404, 'CLIP_NOT_FOUND', 'no such clip');
    let handedOff = false;
    try {
      const { size, etag, mtimeMs, fh } = clip;
      const mtimeS = Math.floor(mtimeMs / 1000);
      const lastModified = new Date(mtimeS * 1000).toUTCString();
      const base = new Headers({
        etag,
        'last-modified': lastModified,
        'cache-control': FILE_CACHE_CONTROL,
        'accept-ranges': 'bytes',
        'x-content-type-options': 'nosniff',
      });
      const h = request.headers;

      const ifMatch = h.get('if-match');
      if (ifMatch !== null) {
        if (!strongMatch(ifMatch, etag)) return preconditionFailed(base);
      } else {
        const ius = httpDateSeconds(h.get('if-unmodified-since'));
        if (ius !== undefined && mtimeS > ius) return preconditionFailed(base);
      }
      const ifNoneMatch = h.get('if-none-match');
      if (ifNoneMatch !== null) {
        if (weakMatch(ifNoneMatch, etag)) return new Response(null, { status: 304, headers: base });
      } else {
        const ims = httpDateSeconds(h.get('if-modified-since'));
        if (ims !== undefined && mtimeS <= ims) {
          return new Response(null, { status: 304, headers: base });
        }
      }

      let range = parseRange(h.get('range'), size);
      const ifRange = h.get('if-range');
      if (range.kind !== 'none' && ifRange !== null) {
        const t = ifRange.trim();
        const matches = t.startsWith('"')
          ? t === etag
          : t.startsWith('W/')
            ? false
            : httpDateSeconds(t) === mtimeS;
        if (!matches) range = { kind: 'none' };
      }

      const headers = new Headers(base);
      headers.set('content-type', contentTypeOf(name));
      if (range.kind === 'unsatisfiable') {
        headers.set('content-range', `bytes */${size}`);
        const res = errorResponse(416, 'RANGE_NOT_SATISFIABLE', 'one satisfiable byte range only');
        res.headers.forEach((v, k) => {
          if (k !== 'cache-control') headers.set(k, v);
        });
        return new Response(await res.text(), { status: 416, headers });
      }
      let start = 0;
      let end = size - 1;
      let status = 200;
      if (range.kind === 'ok') {
        ({ start, end } = range);
        status = 206;
        headers.set('content-range', `bytes ${start}-${end}/${size}`);
      }
      const length = size === 0 ? 0 : end - start + 1;
      headers.set('content-length', String(length));
      if (request.method === 'HEAD' || length === 0) {
        return new Response(null, { status, headers });
      }
      const stream = fh.createReadStream({ start, end, autoClose: true, highWaterMark: 64 * 1024 });
      handedOff = true;
      const body = Readable.toWeb(stream) as unknown as ReadableStream<Uint8Array>;
      return new Response(body, { status, headers });
    } finally {
      if (!handedOff) await clip.fh.close();
    }
  }

  return async (request) => {
    const url = new URL(request.url);
    const path = url.pathname;
    if (path !== prefix && !path.startsWith(`${prefix}/`)) {
      return errorResponse(404, 'NOT_FOUND', 'no such route');
    }
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      return errorResponse(405, 'METHOD_NOT_ALLOWED', 'clips are read-only', {
        allow: 'GET, HEAD',
      });
    }
    let rootReal: string;
    try {
      rootReal = await realpath(options.clipsDir);
    } catch {
      return errorResponse(503, 'CLIPS_UNAVAILABLE', 'the clips directory is not available');
    }
    const rest = path.slice(prefix.length);
    if (rest === '' || rest === '/') return list(rootReal, request.method === 'HEAD');
    let name: string;
    try {
      name = decodeClipName(rest.slice(1));
    } catch (err) {
      if (err instanceof BadClipName)
        return errorResponse(400, 'BAD_CLIP_NAME', 'invalid clip name');
      throw err;
    }
    return serve(request, rootReal, name);
  };
}

function preconditionFailed(headers: Headers): Response {
  return new Response(null, { status: 412, headers });
}
