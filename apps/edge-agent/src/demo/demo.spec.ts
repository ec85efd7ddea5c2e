import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClipsHandler } from '../clips/clips.js';
import { createUpstreamProxy } from '../http/proxy.js';
import { SAMPLE_CLIP, writeSampleClips } from './sample-clips.js';
import { startDemoUpstream } from './upstream.js';

let up: Awaited<ReturnType<typeof startDemoUpstream>>;
beforeAll(async () => {
  up = await startDemoUpstream({ name: 'cam-1', port: 0 });
});
afterAll(() => up.close());

describe('demo upstream', () => {
  it('answers /api/hello, /api/time, /api/status, 404s the rest', async () => {
    expect(await (await fetch(`${up.url}/api/hello`)).json()).toMatchObject({
      message: 'hello from cam-1',
      device: 'cam-1',
    });
    const time = (await (await fetch(`${up.url}/api/time`)).json()) as {
      epochMs: number;
      iso: string;
    };
    expect(new Date(time.iso).getTime()).toBe(time.epochMs);
    expect(await (await fetch(`${up.url}/api/status`)).json()).toMatchObject({
      status: 'ok',
      name: 'cam-1',
    });
    expect((await fetch(`${up.url}/nope`)).status).toBe(404);
    expect((await fetch(`${up.url}/api/echo`)).status).toBe(405);
  });

  it('echoes a streamed body through the allow-listed proxy', async () => {
    const proxy = createUpstreamProxy({ origins: [up.url] });
    const body = Buffer.alloc(2 * 1024 * 1024 + 3, 7);
    const res = await proxy(
      new Request('http://peer.invalid/api/echo', {
        method: 'POST',
        body: new Blob([body]).stream(),
        duplex: 'half',
        headers: { 'content-type': 'application/x-test' },
      }),
    );
    expect(res.headers.get('content-type')).toBe('application/x-test');
    expect(
      createHash('sha256')
        .update(Buffer.from(await res.arrayBuffer()))
        .digest('hex'),
    ).toBe(createHash('sha256').update(body).digest('hex'));
  });
});

describe('sample clips', () => {
  it('the committed sample is a small MP4 whose duration the clips list reads', async () => {
    expect(readFileSync(SAMPLE_CLIP).length).toBeLessThan(200 * 1024);
    const dir = mkdtempSync(join(tmpdir(), 'agent-samples-'));
    const names = await writeSampleClips(dir, { largeBytes: 3 * 1024 * 1024 });
    expect(names).toContain('large-3145728.bin');
    const list = (await (
      await createClipsHandler({ clipsDir: dir })(new Request('http://d.invalid/_agent/clips'))
    ).json()) as {
      clips: { name: string; durationS?: number; contentType: string; size: number }[];
    };
    const mp4 = list.clips.filter((c) => c.contentType === 'video/mp4');
    expect(mp4).toHaveLength(3);
    for (const c of mp4) expect(c.durationS).toBeCloseTo(6, 1);
    // newest first
    expect(mp4.map((c) => c.name)).toEqual([
      'driveway-1530.mp4',
      'front-door-1200.mp4',
      'front-door-0900.mp4',
    ]);
    expect(list.clips.map((c) => c.name)).toContain('front-door-0900.jpg');
  });
});
