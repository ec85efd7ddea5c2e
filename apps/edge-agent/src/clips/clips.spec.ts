import { createHash } from 'node:crypto';
import {
  mkdirSync,
  mkdtempSync,
  readFileSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { mp4Skeleton, writeSyntheticFile } from '../demo/synthetic.js';
import { createClipsHandler, decodeClipName } from './clips.js';

const SIZE = 5 * 1024 * 1024 + 12345;
const SECRET = 'TOP-SECRET-OUTSIDE-CLIPS';
let root: string;
let clipsDir: string;
let bigSha: string;
let big: Buffer;
let handler: (r: Request) => Promise<Response>;

const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');
const req = (path: string, init?: RequestInit): Request =>
  new Request(`http://device.invalid${path}`, init);

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'agent-clips-'));
  clipsDir = join(root, 'clips');
  mkdirSync(clipsDir);
  mkdirSync(join(clipsDir, 'subdir'));
  writeFileSync(join(root, 'secret.txt'), SECRET);
  writeFileSync(join(clipsDir, 'subdir', 'inner.txt'), SECRET);
  writeFileSync(join(clipsDir, '.hidden.mp4'), SECRET);
  bigSha = await writeSyntheticFile(join(clipsDir, 'big.bin'), SIZE, 7);
  big = readFileSync(join(clipsDir, 'big.bin'));
  writeFileSync(join(clipsDir, 'a.mp4'), mp4Skeleton(12.5));
  writeFileSync(join(clipsDir, 'b.mp4'), mp4Skeleton(3600.25, { version: 1, moovLast: true }));
  writeFileSync(join(clipsDir, 'c.webm'), Buffer.from('webm'));
  writeFileSync(join(clipsDir, 'still.JPG'), Buffer.from([0xff, 0xd8, 0xff]));
  writeFileSync(join(clipsDir, 'empty.mkv'), '');
  writeFileSync(join(clipsDir, 'not-really.mp4'), 'garbage that is not an mp4');
  writeFileSync(join(clipsDir, 'weird name ü.mp4'), mp4Skeleton(1));
  symlinkSync(join(root, 'secret.txt'), join(clipsDir, 'escape.mp4'));
  symlinkSync('../secret.txt', join(clipsDir, 'escape2.txt'));
  symlinkSync(join(clipsDir, 'a.mp4'), join(clipsDir, 'alias.mp4'));
  utimesSync(join(clipsDir, 'a.mp4'), 1_700_000_000, 1_700_000_000);
  handler = createClipsHandler({ clipsDir });
});

describe('clip names', () => {
  it.each(['a.mp4', 'weird%20name%20%C3%BC.mp4', 'x..y'])('accepts %s', (raw) => {
    expect(() => decodeClipName(raw)).not.toThrow();
  });
  it.each([
    '..',
    '.',
    '%2e%2e',
    '..%2fsecret.txt',
    '..%2Fsecret.txt',
    '..%5csecret.txt',
    'a%00.mp4',
    '%00',
    'sub/inner.txt',
    'sub%2finner.txt',
    '..\\secret.txt',
    '.hidden.mp4',
    '%2ehidden.mp4',
    '%E0%A4%A',
    'a%0a.mp4',
    'x'.repeat(256),
  ])('refuses %s', (raw) => {
    expect(() => decodeClipName(raw)).toThrow();
  });
});

describe('clips list', () => {
  it('lists regular files inside the dir with sizes, types and MP4 durations', async () => {
    const res = await handler(req('/_agent/clips'));
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    const body = (await res.json()) as {
      clips: {
        name: string;
        size: number;
        contentType: string;
        durationS?: number;
        mtime: string;
      }[];
      truncated: boolean;
    };
    const byName = new Map(body.clips.map((c) => [c.name, c]));
    expect([...byName.keys()].sort()).toEqual(
      [
        'a.mp4',
        'alias.mp4',
        'b.mp4',
        'big.bin',
        'c.webm',
        'empty.mkv',
        'not-really.mp4',
        'still.JPG',
        'weird name ü.mp4',
      ].sort(),
    );
    expect(byName.get('a.mp4')).toMatchObject({
      durationS: 12.5,
      contentType: 'video/mp4',
      mtime: new Date(1_700_000_000_000).toISOString(),
    });
    expect(byName.get('b.mp4')?.durationS).toBe(3600.25);
    expect(byName.get('not-really.mp4')?.durationS).toBeUndefined();
    expect(byName.get('big.bin')).toMatchObject({
      size: SIZE,
      contentType: 'application/octet-stream',
    });
    expect(byName.get('c.webm')?.contentType).toBe('video/webm');
    expect(byName.get('empty.mkv')?.contentType).toBe('video/x-matroska');
    expect(byName.get('still.JPG')?.contentType).toBe('image/jpeg');
    expect(body.truncated).toBe(false);
    expect(JSON.stringify(body)).not.toContain(SECRET);
  });

  it('caps the listing', async () => {
    const res = await createClipsHandler({ clipsDir, maxListEntries: 2 })(req('/_agent/clips/'));
    const body = (await res.json()) as { clips: unknown[]; truncated: boolean };
    expect(body.clips).toHaveLength(2);
    expect(body.truncated).toBe(true);
  });

  it('is 503 when the dir is missing', async () => {
    const res = await createClipsHandler({ clipsDir: join(root, 'nope') })(req('/_agent/clips'));
    expect(res.status).toBe(503);
  });
});

describe('clip streaming', () => {
  it('streams the whole file byte-identically with validators', async () => {
    const res = await handler(req('/_agent/clips/big.bin'));
    expect(res.status).toBe(200);
    expect(res.headers.get('content-length')).toBe(String(SIZE));
    expect(res.headers.get('accept-ranges')).toBe('bytes');
    expect(res.headers.get('etag')).toMatch(/^"[0-9a-z]+-[0-9a-z]+-[0-9a-z]+"$/);
    expect(res.headers.get('cache-control')).toBe('private, no-cache');
    expect(res.headers.get('last-modified')).toBeTruthy();
    expect(sha(new Uint8Array(await res.arrayBuffer()))).toBe(bigSha);
  });

  it('serves byte-identical ranges (SHA-256) that reassemble the file', async () => {
    const cuts = [0, 1, 65_535, 65_536, 1_000_003, 2_097_152, 4_000_000, SIZE - 1, SIZE];
    const parts: Uint8Array[] = [];
    for (let i = 0; i + 1 < cuts.length; i++) {
      const start = cuts[i] as number;
      const end = (cuts[i + 1] as number) - 1;
      const res = await handler(
        req('/_agent/clips/big.bin', { headers: { range: `bytes=${start}-${end}` } }),
      );
      expect(res.status).toBe(206);
      expect(res.headers.get('content-range')).toBe(`bytes ${start}-${end}/${SIZE}`);
      expect(res.headers.get('content-length')).toBe(String(end - start + 1));
      const part = new Uint8Array(await res.arrayBuffer());
      expect(sha(part)).toBe(sha(big.subarray(start, end + 1)));
      parts.push(part);
    }
    expect(sha(Buffer.concat(parts))).toBe(bigSha);
  });

  it.each([
    ['bytes=-1000', SIZE - 1000, SIZE - 1],
    ['bytes=5000000-', 5_000_000, SIZE - 1],
    ['bytes=10-99999999999', 10, SIZE - 1],
    ['bytes=-999999999', 0, SIZE - 1],
  ])('range %s', async (range, start, end) => {
    const res = await handler(req('/_agent/clips/big.bin', { headers: { range } }));
    expect(res.status).toBe(206);
    expect(res.headers.get('content-range')).toBe(`bytes ${start}-${end}/${SIZE}`);
    expect(sha(new Uint8Array(await res.arrayBuffer()))).toBe(sha(big.subarray(start, end + 1)));
  });

  it.each([
    'bytes=0-1,5-6',
    'bytes=abc',
    'bytes=5-1',
    `bytes=${SIZE}-`,
    'bytes=-0',
    'bytes=-',
    'bytes 0-1',
    'bytes=1-2-3',
  ])('416 for %s', async (range) => {
    const res = await handler(req('/_agent/clips/big.bin', { headers: { range } }));
    expect(res.status).toBe(416);
    expect(res.headers.get('content-range')).toBe(`bytes */${SIZE}`);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe(
      'RANGE_NOT_SATISFIABLE',
    );
  });

  it('ignores a Range in another unit', async () => {
    const res = await handler(req('/_agent/clips/c.webm', { headers: { range: 'items=0-1' } }));
    expect(res.status).toBe(200);
    await res.body?.cancel();
  });

  it('416 on any range of an empty file; 200 empty body without one', async () => {
    const r1 = await handler(req('/_agent/clips/empty.mkv', { headers: { range: 'bytes=0-' } }));
    expect(r1.status).toBe(416);
    expect(r1.headers.get('content-range')).toBe('bytes */0');
    const r2 = await handler(req('/_agent/clips/empty.mkv'));
    expect(r2.status).toBe(200);
    expect(r2.headers.get('content-length')).toBe('0');
    expect((await r2.arrayBuffer()).byteLength).toBe(0);
  });

  it('304 for If-None-Match (exact, weak, list, *) and If-Modified-Since', async () => {
    const first = await handler(req('/_agent/clips/a.mp4'));
    const etag = first.headers.get('etag') as string;
    await first.body?.cancel();
    for (const inm of [etag, `W/${etag}`, `"nope", ${etag}`, '*']) {
      const res = await handler(req('/_agent/clips/a.mp4', { headers: { 'if-none-match': inm } }));
      expect(res.status).toBe(304);
      expect(res.headers.get('etag')).toBe(etag);
      expect(res.body).toBeNull();
    }
    const miss = await handler(
      req('/_agent/clips/a.mp4', { headers: { 'if-none-match': '"other"' } }),
    );
    expect(miss.status).toBe(200);
    await miss.body?.cancel();
    const ims = await handler(
      req('/_agent/clips/a.mp4', {
        headers: { 'if-modified-since': new Date(1_700_000_000_000).toUTCString() },
      }),
    );
    expect(ims.status).toBe(304);
    const older = await handler(
      req('/_agent/clips/a.mp4', {
        headers: { 'if-modified-since': new Date(1_600_000_000_000).toUTCString() },
      }),
    );
    expect(older.status).toBe(200);
    await older.body?.cancel();
  });

  it('If-Range: matching strong ETag → 206; stale or weak → full 200', async () => {
    const head = await handler(req('/_agent/clips/big.bin', { method: 'HEAD' }));
    const etag = head.headers.get('etag') as string;
    const ok = await handler(
      req('/_agent/clips/big.bin', { headers: { range: 'bytes=0-9', 'if-range': etag } }),
    );
    expect(ok.status).toBe(206);
    expect(new Uint8Array(await ok.arrayBuffer())).toEqual(new Uint8Array(big.subarray(0, 10)));
    for (const ifRange of ['"stale"', `W/${etag}`, 'Thu, 01 Jan 1970 00:00:00 GMT']) {
      const res = await handler(
        req('/_agent/clips/big.bin', { headers: { range: 'bytes=0-9', 'if-range': ifRange } }),
      );
      expect(res.status).toBe(200);
      expect(res.headers.get('content-length')).toBe(String(SIZE));
      await res.body?.cancel();
    }
  });

  it('412 for a failed If-Match', async () => {
    const res = await handler(req('/_agent/clips/a.mp4', { headers: { 'if-match': '"nope"' } }));
    expect(res.status).toBe(412);
  });

  it('HEAD has the headers and no body; POST is 405', async () => {
    const res = await handler(
      req('/_agent/clips/big.bin', { method: 'HEAD', headers: { range: 'bytes=0-99' } }),
    );
    expect(res.status).toBe(206);
    expect(res.headers.get('content-length')).toBe('100');
    expect(res.body).toBeNull();
    const post = await handler(req('/_agent/clips/big.bin', { method: 'POST', body: 'x' }));
    expect(post.status).toBe(405);
    expect(post.headers.get('allow')).toBe('GET, HEAD');
  });

  it('follows a symlink that stays inside, and serves percent-encoded names', async () => {
    const res = await handler(req('/_agent/clips/alias.mp4'));
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('video/mp4');
    expect(Buffer.from(await res.arrayBuffer())).toEqual(mp4Skeleton(12.5));
    const weird = await handler(req('/_agent/clips/weird%20name%20%C3%BC.mp4'));
    expect(weird.status).toBe(200);
    await weird.body?.cancel();
  });

  it.each([
    '/_agent/clips/../secret.txt',
    '/_agent/clips/..%2fsecret.txt',
    '/_agent/clips/..%2Fsecret.txt',
    '/_agent/clips/%2e%2e%2fsecret.txt',
    '/_agent/clips/%2e%2e/secret.txt',
    '/_agent/clips/..%5csecret.txt',
    '/_agent/clips/..\\secret.txt',
    '/_agent/clips/%2e%2e%5csecret.txt',
    '/_agent/clips/..%252fsecret.txt',
    '/_agent/clips/escape.mp4',
    '/_agent/clips/escape2.txt',
    '/_agent/clips/subdir/inner.txt',
    '/_agent/clips/subdir%2finner.txt',
    '/_agent/clips/subdir',
    '/_agent/clips/.hidden.mp4',
    '/_agent/clips/%2ehidden.mp4',
    '/_agent/clips/a.mp4%00',
    '/_agent/clips/a.mp4%00.txt',
    '/_agent/clips/%00',
    '/_agent/clips/' + encodeURIComponent(join(root ?? '/tmp', 'secret.txt')),
    '/_agent/clips//etc/passwd',
    '/_agent/clips/%2Fetc%2Fpasswd',
    '/_agent/clips/..',
    '/_agent/clips/...',
    '/_agent/clipsX',
    '/_agent/clips/missing.mp4',
  ])('never serves %s', async (path) => {
    const res = await handler(req(path));
    expect([400, 404]).toContain(res.status);
    expect(await res.text()).not.toContain(SECRET);
  });

  it('refuses an absolute path built after setup', async () => {
    const res = await handler(req(`/_agent/clips/${encodeURIComponent(join(root, 'secret.txt'))}`));
    expect(res.status).toBe(400);
  });
});
