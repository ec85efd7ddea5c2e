// @vitest-environment node
import { createHash } from 'node:crypto';
import { createMemoryTransportPair, createPeerFetch, servePeerHttp } from '@peerfetch/peer-http';
import { describe, expect, it } from 'vitest';
import { clipPath, decodeClips, download } from './clips.js';

describe('clips', () => {
  it('decodes the list and attaches thumbnails to their clip', () => {
    const clips = decodeClips({
      clips: [
        { name: 'a.mp4', size: 10, mtimeMs: 5, contentType: 'video/mp4', durationS: 6 },
        { name: 'a.jpg', size: 3, mtimeMs: 5, contentType: 'image/jpeg' },
        { name: 'b.bin', size: 7, mtimeMs: 4, contentType: 'application/octet-stream' },
        { name: 42 },
      ],
    });
    expect(clips).toEqual([
      {
        name: 'a.mp4',
        size: 10,
        mtimeMs: 5,
        contentType: 'video/mp4',
        durationS: 6,
        thumbnail: 'a.jpg',
      },
      { name: 'b.bin', size: 7, mtimeMs: 4, contentType: 'application/octet-stream' },
    ]);
    expect(() => decodeClips({ nope: 1 })).toThrow();
    expect(clipPath('a b.mp4')).toBe('/_agent/clips/a%20b.mp4');
  });

  it('downloads over peer-http with progress and a SHA-256 of the bytes', async () => {
    const data = new Uint8Array(1_000_000).map((_, i) => (i * 7) & 255);
    const [a, b] = createMemoryTransportPair();
    servePeerHttp(
      b,
      () => new Response(data, { headers: { 'content-length': String(data.length) } }),
    );
    const http = createPeerFetch(a);
    const progress: [number, number | null][] = [];
    const result = await download(http, '/_agent/clips/x.bin', (r, t) => progress.push([r, t]));
    expect(result.bytes).toBe(data.length);
    expect(result.sha256).toBe(createHash('sha256').update(data).digest('hex'));
    expect(progress.at(-1)).toEqual([data.length, data.length]);
    expect(progress.length).toBeGreaterThan(1);
    await http.close();
  });
});
