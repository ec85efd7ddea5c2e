// peer-http between a real Chromium page (the bundled library over rtcDataChannelTransport)
// and node-datachannel (nodeDataChannelTransport), in both directions: the browser as the
// client of a Node server, and Node as the client of a server running in the page.
//
// The compliance suite's cases drive both sessions from one process; here one session lives
// in the browser, so this file is a parallel set of the same cases, asserted from Node.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { PeerHttpError } from '../../src/errors.js';
import { createPeerHttp, type PeerHttpSession } from '../../src/session.js';
import { ChromiumHarness, type BrowserConnection } from './chromium.js';
import { digestStream, patternDigest, testHandler, type ServerEvents } from './fixtures.js';
import { cleanupNodeDataChannel } from './node-pair.js';
import { rejection } from '../support/rejection.js';

const MiB = 1024 * 1024;
const BIG = 100 * MiB;

let harness: ChromiumHarness;
let conn: BrowserConnection | undefined;
let nodeSession: PeerHttpSession | undefined;

beforeAll(async () => {
  harness = await ChromiumHarness.launch();
});
afterEach(async () => {
  await harness.page.evaluate(async () => {
    const session = window.pf.state['session'] as PeerHttpSession | undefined;
    await session?.close().catch(() => undefined);
    window.pf.state = {};
    window.pf.hangUp();
  });
  await nodeSession?.close().catch(() => undefined);
  nodeSession = undefined;
  await conn?.close();
  conn = undefined;
});
afterAll(async () => {
  await harness?.close();
  cleanupNodeDataChannel();
});

/** Connects, starts a serving session on both sides, waits for both HELLOs. */
async function setup(limits: { nodeMaxHeaderBytes?: number; pageMaxHeaderBytes?: number } = {}) {
  conn = await harness.connect();
  const events: ServerEvents = { cancelled: 0, requests: 0 };
  nodeSession = createPeerHttp(conn.node, {
    handler: testHandler(events),
    onError: () => undefined,
    ...(limits.nodeMaxHeaderBytes ? { maxHeaderBytes: limits.nodeMaxHeaderBytes } : {}),
  });
  await harness.page.evaluate(async (maxHeaderBytes) => {
    const pf = window.pf;
    const pageEvents: ServerEvents = { cancelled: 0, requests: 0 };
    pf.state['events'] = pageEvents;
    const session = pf.peerHttp.createPeerHttp(pf.transport(), {
      handler: pf.fixtures.testHandler(pageEvents),
      onError: () => undefined,
      ...(maxHeaderBytes ? { maxHeaderBytes } : {}),
    });
    pf.state['session'] = session;
    await session.ready;
  }, limits.pageMaxHeaderBytes);
  await nodeSession.ready;
  return { node: nodeSession, events };
}

function expectNetworkError(shape: unknown): void {
  expect(shape).toMatchObject({ name: 'TypeError', causeName: 'PeerHttpError' });
}

describe('peer-http: Chromium client → node-datachannel server', () => {
  it('runs 50 concurrent requests with intact bodies', async () => {
    await setup();
    const digests = await harness.page.evaluate(async () => {
      const pf = window.pf;
      const session = pf.state['session'] as PeerHttpSession;
      return Promise.all(
        Array.from({ length: 50 }, async (_, i) => {
          const response = await session.get(`/bytes?n=${100_000 + i}&seed=${i + 1}`);
          return pf.fixtures.digestStream(response.body);
        }),
      );
    });
    expect(digests).toEqual(
      Array.from({ length: 50 }, (_, i) => ({
        bytes: 100_000 + i,
        sha256: patternDigest(100_000 + i, i + 1),
      })),
    );
  });

  it('downloads 100 MiB from Node with an identical SHA-256 computed in the browser', async () => {
    await setup();
    const digest = await harness.page.evaluate(async (n) => {
      const pf = window.pf;
      const session = pf.state['session'] as PeerHttpSession;
      const response = await session.get(`/bytes?n=${n}&seed=7`);
      return pf.fixtures.digestStream(response.body);
    }, BIG);
    expect(digest).toEqual({ bytes: BIG, sha256: patternDigest(BIG, 7) });
  }, 180_000);

  it('uploads a streamed body to Node with an identical SHA-256', async () => {
    await setup();
    const n = 8 * MiB;
    const result = await harness.page.evaluate(async (size) => {
      const pf = window.pf;
      const session = pf.state['session'] as PeerHttpSession;
      const response = await session.post('/digest', pf.fixtures.patternStream(size, 3), {
        duplex: 'half',
      } as RequestInit);
      return (await response.json()) as unknown;
    }, n);
    expect(result).toEqual({ bytes: n, sha256: patternDigest(n, 3) });
  });

  it('uses the core API from the browser: request() with a streamed body and header lists', async () => {
    await setup();
    const n = 2 * MiB;
    const result = await harness.page.evaluate(async (size) => {
      const pf = window.pf;
      const session = pf.state['session'] as PeerHttpSession;
      const upload = await session.request({
        method: 'POST',
        target: '/digest',
        body: pf.fixtures.patternStream(size, 5),
      });
      const download = await session.request({ target: `/bytes?n=${size}&seed=6` });
      return {
        upload: JSON.parse(await upload.text()) as unknown,
        status: download.status,
        type: download.headers.find(([name]) => name === 'content-type')?.[1],
        download: await pf.fixtures.digestStream(download.body),
      };
    }, n);
    expect(result).toEqual({
      upload: { bytes: n, sha256: patternDigest(n, 5) },
      status: 200,
      type: 'application/octet-stream',
      download: { bytes: n, sha256: patternDigest(n, 6) },
    });
  });

  it('aborting mid-body rejects the browser reader with AbortError and cancels the Node body', async () => {
    const { events } = await setup();
    const outcome = await harness.page.evaluate(async () => {
      const pf = window.pf;
      const session = pf.state['session'] as PeerHttpSession;
      const controller = new AbortController();
      const response = await session.get('/stall?n=1048576', { signal: controller.signal });
      const reader = (response.body as ReadableStream<Uint8Array>).getReader();
      const first = await reader.read();
      controller.abort();
      let errorName = 'none';
      try {
        for (;;) if ((await reader.read()).done) break;
      } catch (error) {
        errorName = (error as Error).name;
      }
      const after = await session.get('/status/200');
      return { firstBytes: first.value?.byteLength ?? 0, errorName, after: after.status };
    });
    expect(outcome.firstBytes).toBeGreaterThan(0);
    expect(outcome.errorName).toBe('AbortError');
    expect(outcome.after).toBe(200);
    while (events.cancelled === 0) await new Promise((resolve) => setTimeout(resolve, 10));
    expect(events.cancelled).toBe(1);
  });

  it('passes error statuses through and turns a throwing Node handler into a 500', async () => {
    await setup();
    const statuses = await harness.page.evaluate(async () => {
      const session = window.pf.state['session'] as PeerHttpSession;
      const out: [number, string][] = [];
      for (const path of ['/status/404', '/status/418', '/status/503', '/throw']) {
        const response = await session.get(path);
        out.push([response.status, await response.text()]);
      }
      return out;
    });
    expect(statuses.slice(0, 3)).toEqual([
      [404, 'status 404'],
      [418, 'status 418'],
      [503, 'status 503'],
    ]);
    expect(statuses[3]?.[0]).toBe(500);
    expect(statuses[3]?.[1]).not.toContain('handler failure');
  });

  it('gets 431 from Node for request headers over its limit', async () => {
    await setup({ nodeMaxHeaderBytes: 1024 });
    const statuses = await harness.page.evaluate(async () => {
      const session = window.pf.state['session'] as PeerHttpSession;
      const small = await session.get('/echo-header', { headers: { 'x-big': 'a'.repeat(500) } });
      const big = await session.get('/echo-header', { headers: { 'x-big': 'a'.repeat(2000) } });
      await big.body?.cancel();
      return [small.status, await small.text(), big.status];
    });
    expect(statuses).toEqual([200, '500', 431]);
  });

  it('rejects cleanly in the browser when the Node peer vanishes mid-stream', async () => {
    await setup();
    const outcome = harness.page.evaluate(async () => {
      const pf = window.pf;
      const session = pf.state['session'] as PeerHttpSession;
      const response = await session.get('/stall?n=1048576');
      const reader = (response.body as ReadableStream<Uint8Array>).getReader();
      await reader.read();
      pf.state['reading'] = true;
      const shape = (error: unknown) => {
        const cause = (error as Error).cause as PeerHttpError | undefined;
        return { name: (error as Error).name, causeName: cause?.name, causeCode: cause?.code };
      };
      let readError: unknown;
      try {
        for (;;) if ((await reader.read()).done) break;
      } catch (error) {
        readError = shape(error);
      }
      await session.closed;
      let laterError: unknown;
      try {
        await session.get('/status/200');
      } catch (error) {
        laterError = shape(error);
      }
      return { readError, laterError };
    });
    await harness.page.waitForFunction(() => window.pf.state['reading'] === true);
    // The agent disappears: its PeerConnection goes away without a GOAWAY.
    conn?.nodePeer.close();
    const { readError, laterError } = await outcome;
    expectNetworkError(readError);
    expectNetworkError(laterError);
  });
});

describe('peer-http: node-datachannel client → Chromium server', () => {
  it('runs 50 concurrent requests with intact bodies', async () => {
    const { node } = await setup();
    const digests = await Promise.all(
      Array.from({ length: 50 }, async (_, i) =>
        digestStream((await node.get(`/bytes?n=${100_000 + i}&seed=${i + 1}`)).body),
      ),
    );
    expect(digests).toEqual(
      Array.from({ length: 50 }, (_, i) => ({
        bytes: 100_000 + i,
        sha256: patternDigest(100_000 + i, i + 1),
      })),
    );
  });

  it('downloads 100 MiB from the browser with an identical SHA-256', async () => {
    const { node } = await setup();
    const response = await node.get(`/bytes?n=${BIG}&seed=9`);
    expect(await digestStream(response.body)).toEqual({
      bytes: BIG,
      sha256: patternDigest(BIG, 9),
    });
  }, 180_000);

  it('uploads a streamed body to the browser with an identical SHA-256', async () => {
    const { node } = await setup();
    const n = 8 * MiB;
    const { patternStream } = await import('./fixtures.js');
    const response = await node.post('/digest', patternStream(n, 5), {
      duplex: 'half',
    } as RequestInit);
    expect(await response.json()).toEqual({ bytes: n, sha256: patternDigest(n, 5) });
  });

  it('aborting mid-body rejects the Node reader with AbortError and cancels the browser body', async () => {
    const { node } = await setup();
    const controller = new AbortController();
    const response = await node.get('/stall?n=1048576', { signal: controller.signal });
    const reader = response.body!.getReader();
    expect((await reader.read()).value?.byteLength).toBeGreaterThan(0);
    controller.abort();
    const error = await rejection(
      (async () => {
        for (;;) if ((await reader.read()).done) return;
      })(),
    );
    expect((error as Error).name).toBe('AbortError');
    await harness.page.waitForFunction(
      () => (window.pf.state['events'] as ServerEvents).cancelled === 1,
    );
    expect((await node.get('/status/200')).status).toBe(200);
  });

  it('passes error statuses through and turns a throwing browser handler into a 500', async () => {
    const { node } = await setup();
    for (const code of [404, 418, 503]) {
      const response = await node.get(`/status/${code}`);
      expect([response.status, await response.text()]).toEqual([code, `status ${code}`]);
    }
    const thrown = await node.get('/throw');
    expect(thrown.status).toBe(500);
    expect(await thrown.text()).not.toContain('handler failure');
  });

  it('gets 431 from the browser for request headers over its limit', async () => {
    const { node } = await setup({ pageMaxHeaderBytes: 1024 });
    const small = await node.get('/echo-header', { headers: { 'x-big': 'a'.repeat(500) } });
    expect([small.status, await small.text()]).toEqual([200, '500']);
    const big = await node.get('/echo-header', { headers: { 'x-big': 'a'.repeat(2000) } });
    expect(big.status).toBe(431);
    await big.body?.cancel();
  });

  it('rejects cleanly in Node when the browser vanishes mid-stream', async () => {
    const { node } = await setup();
    const response = await node.get('/stall?n=1048576');
    const reader = response.body!.getReader();
    await reader.read();
    // The console tab goes away: its PeerConnection closes without a GOAWAY.
    await harness.page.evaluate(() => window.pf.hangUp());
    const error = await rejection(
      (async () => {
        for (;;) if ((await reader.read()).done) return;
      })(),
    );
    expect(error).toBeInstanceOf(TypeError);
    expect((error as TypeError).cause).toBeInstanceOf(PeerHttpError);
    await node.closed;
    const later = await rejection(node.get('/status/200'));
    expect(later).toBeInstanceOf(TypeError);
  });
});
