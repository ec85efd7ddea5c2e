// Clips on the device (`/_agent/clips`, apps/edge-agent/src/clips/clips.ts): the list,
// thumbnails (a JPEG beside a clip, same base name) and a download that streams the body
// through SHA-256 (@noble/hashes, incremental) while reporting progress.
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex } from '@noble/hashes/utils.js';
import type { PeerHttpSession } from '@peerfetch/peer-http';

export const CLIPS_PATH = '/_agent/clips';

export interface Clip {
  name: string;
  size: number;
  mtimeMs: number;
  contentType: string;
  durationS?: number;
  /** Name of a sibling thumbnail (`<base>.jpg`), if there is one. */
  thumbnail?: string;
}

const isObj = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** Decodes the agent's list; media first, thumbnails attached to their clip. */
export function decodeClips(body: unknown): Clip[] {
  if (!isObj(body) || !Array.isArray(body['clips'])) throw new Error('unexpected clip list');
  const all: Clip[] = [];
  for (const c of body['clips']) {
    if (!isObj(c) || typeof c['name'] !== 'string' || typeof c['size'] !== 'number') continue;
    all.push({
      name: c['name'],
      size: c['size'],
      mtimeMs: typeof c['mtimeMs'] === 'number' ? c['mtimeMs'] : 0,
      contentType:
        typeof c['contentType'] === 'string' ? c['contentType'] : 'application/octet-stream',
      ...(typeof c['durationS'] === 'number' ? { durationS: c['durationS'] } : {}),
    });
  }
  const names = new Set(all.map((c) => c.name));
  const base = (name: string) => name.replace(/\.[^.]+$/, '');
  return all
    .filter(
      (c) =>
        !(
          c.contentType.startsWith('image/') &&
          all.some(
            (o) => o !== c && base(o.name) === base(c.name) && o.contentType.startsWith('video/'),
          )
        ),
    )
    .map((c) => {
      const thumb = `${base(c.name)}.jpg`;
      return c.contentType.startsWith('video/') && names.has(thumb)
        ? { ...c, thumbnail: thumb }
        : c;
    });
}

export const clipPath = (name: string) => `${CLIPS_PATH}/${encodeURIComponent(name)}`;

export async function listClips(http: PeerHttpSession): Promise<Clip[]> {
  const res = await http.fetch(CLIPS_PATH, { headers: { accept: 'application/json' } });
  if (!res.ok) throw new Error(`the device answered ${res.status}`);
  return decodeClips(await res.json());
}

export interface DownloadResult {
  bytes: number;
  sha256: string;
  blob: Blob;
}

/** Downloads `path`, hashing as it streams; `onProgress(received, total | null)`. */
export async function download(
  http: PeerHttpSession,
  path: string,
  onProgress: (received: number, total: number | null) => void,
  signal?: AbortSignal,
): Promise<DownloadResult> {
  const res = await http.fetch(path, signal ? { signal } : {});
  if (!res.ok || !res.body) throw new Error(`the device answered ${res.status}`);
  const length = Number(res.headers.get('content-length'));
  const total = Number.isFinite(length) && length > 0 ? length : null;
  const hash = sha256.create();
  const parts: Uint8Array[] = [];
  let received = 0;
  const reader = res.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    hash.update(value);
    parts.push(value);
    received += value.byteLength;
    onProgress(received, total);
  }
  return {
    bytes: received,
    sha256: bytesToHex(hash.digest()),
    blob: new Blob(parts as BlobPart[], { type: res.headers.get('content-type') ?? '' }),
  };
}
