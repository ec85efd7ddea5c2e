/**
 * The transport-agnostic compliance suite: the same tests over the in-memory pair,
 * node-datachannel and a browser RTCDataChannel. No Node built-ins here, so the file also
 * bundles for a browser (hashing: @noble/hashes).
 *
 *   runComplianceSuite('memory', async () => { const [a, b] = createMemoryTransportPair(); … })
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex } from '@noble/hashes/utils.js';
import { afterEach, describe, expect, it } from 'vitest';
import { defaultConfig } from '../../src/config.js';
import { PeerHttpError, ReasonCode } from '../../src/errors.js';
import {
  createPeerHttp,
  type PeerCoreHandler,
  type PeerHttpHandler,
  type PeerHttpOptions,
  type PeerHttpSession,
} from '../../src/session.js';
import type { Transport } from '../../src/transport.js';
import { rejection } from '../support/rejection.js';

export interface TransportPair {
  a: Transport;
  b: Transport;
  /** Tears down whatever carries the pair (peer connections, processes). */
  close(): Promise<void>;
}

export interface ComplianceOptions {
  /** Size of the large-body tests in bytes (default 100 MiB). */
  bigBodyBytes?: number;
  /** Per-test timeout for the large-body tests, ms (default 300000). */
  bigBodyTimeout?: number;
}

const MiB = 1024 * 1024;
const BLOCK = 64 * 1024;
const baseBlock = (() => {
  const block = new Uint8Array(BLOCK);
  let x = 0x9e3779b9;
  for (let i = 0; i < BLOCK; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    block[i] = x & 0xff;
  }
  return block;
})();

/** Deterministic pseudo-random block `index` (its first 4 bytes carry the index). */
function block(index: number, length = BLOCK): Uint8Array {
  const out = baseBlock.slice(0, length);
  new DataView(out.buffer).setUint32(0, index >>> 0);
  return out;
}

/** A pull-based body of `total` deterministic bytes; `stats.pulled` counts bytes produced. */
function patternBody(
  total: number,
  stats = { pulled: 0, cancelled: false },
): ReadableStream<Uint8Array> {
  let index = 0;
  return new ReadableStream<Uint8Array>(
    {
      pull(controller) {
        const remaining = total - index * BLOCK;
        if (remaining <= 0) return controller.close();
        const chunk = block(index++, Math.min(BLOCK, remaining));
        stats.pulled += chunk.length;
        controller.enqueue(chunk);
      },
      cancel() {
        stats.cancelled = true;
      },
    },
    { highWaterMark: 0 },
  );
}

function patternDigest(total: number): string {
  const hash = sha256.create();
  for (let index = 0; index * BLOCK < total; index++)
    hash.update(block(index, Math.min(BLOCK, total - index * BLOCK)));
  return bytesToHex(hash.digest());
}

async function digestStream(
  body: ReadableStream<Uint8Array>,
): Promise<{ hex: string; length: number }> {
  const hash = sha256.create();
  let length = 0;
  const reader = body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    hash.update(value);
    length += value.length;
  }
  return { hex: bytesToHex(hash.digest()), length };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls until `fn` is true (no timing threshold: the test's own timeout bounds it). */
async function until(fn: () => boolean): Promise<void> {
  while (!fn()) await sleep(5);
}

/** Waits until `read()` stops changing for `quiet` consecutive polls. */
async function settle(read: () => number, quiet = 10): Promise<number> {
  let last = -1;
  let same = 0;
  while (same < quiet) {
    await sleep(30);
    const now = read();
    same = now === last ? same + 1 : 0;
    last = now;
  }
  return last;
}

function expectNetworkError(error: unknown, code?: number): PeerHttpError {
  expect(error).toBeInstanceOf(TypeError);
  const cause = (error as TypeError).cause;
  expect(cause).toBeInstanceOf(PeerHttpError);
  if (code !== undefined) expect((cause as PeerHttpError).code).toBe(code);
  return cause as PeerHttpError;
}

/** Per-test observations from the handlers. */
interface Events {
  slowCancelled: boolean;
  stallCancelled: boolean;
  hangAborted: boolean;
  uploadFailed: unknown;
  handlerErrors: unknown[];
  slowStats: { pulled: number; cancelled: boolean };
}

function testHandler(side: string, events: Events): PeerHttpHandler {
  return async (request) => {
    const url = new URL(request.url);
    const path = url.pathname;
    if (path === '/whoami') return new Response(side);
    if (path === '/echo') {
      return new Response(request.body, {
        status: 200,
        headers: {
          'content-type': request.headers.get('content-type') ?? 'application/octet-stream',
        },
      });
    }
    if (path === '/id') return Response.json({ id: url.searchParams.get('id'), side });
    if (path.startsWith('/status/'))
      return new Response(`status ${path.slice(8)}`, { status: Number(path.slice(8)) });
    if (path === '/throw') throw new Error('secret internal detail');
    if (path === '/headers') {
      const size = [...request.headers].reduce((n, [k, v]) => n + k.length + v.length, 0);
      return Response.json({ size });
    }
    if (path === '/sha256') {
      try {
        return Response.json(await digestStream(request.body!));
      } catch (error) {
        events.uploadFailed = error;
        throw error;
      }
    }
    if (path.startsWith('/bytes/'))
      return new Response(patternBody(Number(path.slice(7)), events.slowStats));
    if (path === '/slow') {
      let i = 0;
      return new Response(
        new ReadableStream<Uint8Array>({
          async pull(controller) {
            await sleep(5);
            controller.enqueue(block(i++, 1024));
          },
          cancel() {
            events.slowCancelled = true;
          },
        }),
      );
    }
    if (path === '/stall') {
      // one block, then a read that never completes: only a cancel can end this body
      let sentFirst = false;
      return new Response(
        new ReadableStream<Uint8Array>(
          {
            pull(controller) {
              if (sentFirst) return new Promise<void>(() => undefined);
              sentFirst = true;
              controller.enqueue(block(0, 1024));
            },
            cancel() {
              events.stallCancelled = true;
            },
          },
          { highWaterMark: 0 },
        ),
      );
    }
    if (path === '/hang') {
      await new Promise<void>((resolve) =>
        request.signal.addEventListener(
          'abort',
          () => {
            events.hangAborted = true;
            resolve();
          },
          { once: true },
        ),
      );
      return new Response('too late');
    }
    return new Response('not found', { status: 404 });
  };
}

/** The core-API server of the interop test: echoes the body, says who it is. */
function coreTestHandler(side: string): PeerCoreHandler {
  return (request) => {
    if (request.target === '/whoami') return { status: 200, body: side };
    if (request.target === '/echo') {
      return { status: 200, headers: [['x-core', side]], body: request.body };
    }
    return { status: 404, body: 'not found' };
  };
}

export function runComplianceSuite(
  name: string,
  makePair: () => Promise<TransportPair>,
  options: ComplianceOptions = {},
): void {
  const bigBytes = options.bigBodyBytes ?? 100 * MiB;
  const bigTimeout = options.bigBodyTimeout ?? 300_000;

  describe(`peer-http compliance: ${name}`, () => {
    let cleanup: Array<() => Promise<void>> = [];
    afterEach(async () => {
      for (const fn of cleanup.reverse()) await fn().catch(() => undefined);
      cleanup = [];
    });

    async function setup(limitsA: PeerHttpOptions = {}, limitsB: PeerHttpOptions = {}) {
      const pair = await makePair();
      const events: Events = {
        slowCancelled: false,
        stallCancelled: false,
        hangAborted: false,
        uploadFailed: undefined,
        handlerErrors: [],
        slowStats: { pulled: 0, cancelled: false },
      };
      const onError = (error: unknown) => events.handlerErrors.push(error);
      const a: PeerHttpSession = createPeerHttp(pair.a, {
        handler: testHandler('a', events),
        onError,
        ...limitsA,
      });
      const b: PeerHttpSession = createPeerHttp(pair.b, {
        handler: testHandler('b', events),
        onError,
        ...limitsB,
      });
      cleanup.push(async () => {
        await Promise.allSettled([a.close(), b.close()]);
        await pair.close();
      });
      await Promise.all([a.ready, b.ready]);
      return { pair, a, b, events };
    }

    it('serves requests in both directions at once', async () => {
      const { a, b } = await setup();
      const [fromB, fromA] = await Promise.all([a.get('/whoami'), b.get('/whoami')]);
      expect(await fromB.text()).toBe('b');
      expect(await fromA.text()).toBe('a');
      const echoed = await a.post('/echo', { hello: 'world' });
      expect(echoed.headers.get('content-type')).toBe('application/json');
      expect(await echoed.json()).toEqual({ hello: 'world' });
      expect(await (await b.put('/echo', 'text body')).text()).toBe('text body');
      expect((await a.delete('/nope')).status).toBe(404);
      expect(await a.ping()).toBeGreaterThanOrEqual(0);
    });

    it('serves the core API next to the fetch API, streaming both ways', async () => {
      const { a, b } = await setup({ handler: undefined, coreHandler: coreTestHandler('a') });
      const total = 4 * MiB;
      // core client → fetch-style server
      const fromB = await a.request({ target: '/whoami' });
      expect([fromB.status, await fromB.text()]).toEqual([200, 'b']);
      const digest = await a.request({
        method: 'POST',
        target: '/sha256',
        body: patternBody(total),
      });
      expect(JSON.parse(await digest.text())).toEqual({ hex: patternDigest(total), length: total });
      // fetch client → core server
      expect(await (await b.get('/whoami')).text()).toBe('a');
      const echoed = await b.post('/echo', patternBody(total), { duplex: 'half' } as RequestInit);
      expect(echoed.headers.get('x-core')).toBe('a');
      expect(await digestStream(echoed.body!)).toEqual({
        hex: patternDigest(total),
        length: total,
      });
      expect((await b.get('/nowhere')).status).toBe(404);
    });

    it('runs 50 concurrent requests each way, beyond the peer concurrency limit', async () => {
      const { a, b } = await setup({ maxConcurrentStreams: 7 }, { maxConcurrentStreams: 5 });
      const ids = Array.from({ length: 50 }, (_, i) => String(i));
      const results = await Promise.all([
        ...ids.map(async (id) => ({
          ...((await (await a.get(`/id?id=${id}`)).json()) as object),
          from: 'a',
        })),
        ...ids.map(async (id) => ({
          ...((await (await b.get(`/id?id=${id}`)).json()) as object),
          from: 'b',
        })),
      ]);
      expect(results).toEqual([
        ...ids.map((id) => ({ id, side: 'b', from: 'a' })),
        ...ids.map((id) => ({ id, side: 'a', from: 'b' })),
      ]);
    });

    it(
      `uploads and downloads ${bigBytes / MiB} MiB with identical SHA-256`,
      async () => {
        const { a, b } = await setup();
        const expected = patternDigest(bigBytes);
        const upload = a.post('/sha256', patternBody(bigBytes), { duplex: 'half' } as RequestInit);
        const download = b.get(`/bytes/${bigBytes}`).then((r) => digestStream(r.body!));
        const [uploaded, downloaded] = await Promise.all([
          upload.then((r) => r.json() as Promise<unknown>),
          download,
        ]);
        expect(uploaded).toEqual({ hex: expected, length: bigBytes });
        expect(downloaded).toEqual({ hex: expected, length: bigBytes });
      },
      bigTimeout,
    );

    it('aborting mid-body errors the reader with the abort reason and cancels the server body', async () => {
      const { a, events } = await setup();
      const controller = new AbortController();
      const response = await a.get('/slow', { signal: controller.signal });
      const reader = response.body!.getReader();
      expect((await reader.read()).value?.length).toBe(1024);
      controller.abort();
      const error = await rejection(reader.read());
      expect(error).toBeInstanceOf(DOMException);
      expect((error as DOMException).name).toBe('AbortError');
      await until(() => events.slowCancelled);
      // the connection is still good
      expect(await (await a.get('/whoami')).text()).toBe('b');
    });

    it('aborting mid-body cancels a stalled server body at once, not at its next chunk', async () => {
      const { a, events } = await setup();
      const controller = new AbortController();
      const response = await a.get('/stall', { signal: controller.signal });
      const reader = response.body!.getReader();
      expect((await reader.read()).value?.length).toBe(1024);
      expect(events.stallCancelled).toBe(false);
      controller.abort();
      expect(((await rejection(reader.read())) as DOMException).name).toBe('AbortError');
      // the source never produces another chunk: only the RESET can cancel it
      await until(() => events.stallCancelled);
      expect(await (await a.get('/whoami')).text()).toBe('b');
    });

    it('a server that answers without reading the upload cancels a stalled upload source', async () => {
      const { a } = await setup();
      let cancelled = false;
      let pulls = 0;
      const stalled = new ReadableStream<Uint8Array>(
        {
          pull(c) {
            pulls += 1;
            if (pulls > 1) return new Promise<void>(() => undefined);
            c.enqueue(block(0, 1024));
          },
          cancel() {
            cancelled = true;
          },
        },
        { highWaterMark: 0 },
      );
      const response = await a.post('/whoami', stalled, { duplex: 'half' } as RequestInit);
      expect(await response.text()).toBe('b');
      // the server sends END, then RESET NO_ERROR (PROTOCOL.md §6.2): the source must stop
      await until(() => cancelled);
      expect(await (await a.get('/whoami')).text()).toBe('b');
    });

    it('aborting before the response rejects with AbortError and aborts the handler', async () => {
      const { a, events } = await setup();
      const controller = new AbortController();
      const pending = a.get('/hang', { signal: controller.signal });
      await sleep(20);
      controller.abort();
      const error = await rejection(pending);
      expect((error as DOMException).name).toBe('AbortError');
      await until(() => events.hangAborted);
    });

    it('aborting an upload mid-body fails the server’s request body', async () => {
      const { a, events } = await setup();
      const controller = new AbortController();
      let sent = 0;
      const endless = new ReadableStream<Uint8Array>({
        pull(c) {
          sent += BLOCK;
          c.enqueue(block(0));
        },
      });
      const pending = a.post('/sha256', endless, {
        signal: controller.signal,
        duplex: 'half',
      } as RequestInit);
      await until(() => sent > 4 * MiB);
      controller.abort();
      expect(((await rejection(pending)) as DOMException).name).toBe('AbortError');
      await until(() => events.uploadFailed !== undefined);
      expect(events.uploadFailed).toBeInstanceOf(TypeError);
    });

    it('times a request out with a TypeError (TIMEOUT) and aborts the handler', async () => {
      const { a, events } = await setup();
      const error = await rejection(a.get('/hang', { timeout: 100 }));
      expectNetworkError(error, ReasonCode.TIMEOUT);
      await until(() => events.hangAborted);
    });

    it('passes error statuses through and turns a throwing handler into a bare 500', async () => {
      const { a, events } = await setup();
      expect((await a.get('/status/404')).status).toBe(404);
      const teapot = await a.get('/status/418');
      expect([teapot.status, await teapot.text()]).toEqual([418, 'status 418']);
      const unavailable = await a.get('/status/503');
      expect(unavailable.status).toBe(503);
      const thrown = await a.get('/throw');
      expect(thrown.status).toBe(500);
      const text = await thrown.text();
      expect(text).not.toContain('secret');
      expect(text).not.toContain(' at ');
      expect(events.handlerErrors).toHaveLength(1);
      expect((events.handlerErrors[0] as Error).message).toBe('secret internal detail');
    });

    it('answers 431 to request headers over the server limit and refuses unframeable ones locally', async () => {
      const { a } = await setup({}, { maxHeaderBytes: 1024 });
      const small = await a.get('/headers', { headers: { 'x-small': 'a'.repeat(500) } });
      expect(small.status).toBe(200);
      const big = await a.get('/headers', { headers: { 'x-big': 'a'.repeat(2000) } });
      expect(big.status).toBe(431);
      await big.body?.cancel();
      const huge = 'a'.repeat(40000);
      const error = await rejection(a.get('/headers', { headers: { 'x-1': huge, 'x-2': huge } }));
      expectNetworkError(error, ReasonCode.HEADER_TOO_LARGE);
      expect((await a.get('/whoami')).status).toBe(200);
    });

    it('rejects cleanly when the peer vanishes mid-stream', async () => {
      const { pair, a } = await setup();
      const response = await a.get('/slow');
      const reader = response.body!.getReader();
      await reader.read();
      const pending = a.get('/hang');
      await sleep(20);
      pair.b.close();
      // chunks already delivered may still be read; then the reader fails
      const failure = await rejection(
        (async () => {
          for (;;) if ((await reader.read()).done) return;
        })(),
      );
      expectNetworkError(failure);
      expectNetworkError(await rejection(pending));
      await a.closed;
      expectNetworkError(await rejection(a.get('/whoami')));
      expect(a.closeReason).toBeInstanceOf(PeerHttpError);
    });

    it.each([
      ['a small window', { initialStreamWindow: 256 * 1024, initialConnectionWindow: MiB }],
      ['the default settings', {}],
    ] as const)(
      'keeps buffering bounded for a slow reader (%s)',
      async (_, limits) => {
        const config = { ...defaultConfig, ...limits };
        const { a, events } = await setup(limits, limits);
        const total = 64 * MiB;
        const response = await a.get(`/bytes/${total}`);
        const reader = response.body!.getReader();
        let received = (await reader.read()).value!.length;
        const pulled = await settle(() => events.slowStats.pulled);
        // what the reader's window allows + the sender's channel high-water mark + one chunk
        // in flight: far below 64 MiB, whatever the body size
        expect(pulled).toBeLessThanOrEqual(
          config.initialStreamWindow + config.sendHighWaterMark + 2 * BLOCK,
        );
        for (;;) {
          const { done, value } = await reader.read();
          if (done) break;
          received += value.length;
        }
        expect(received).toBe(total);
      },
      120_000,
    );

    it('closes gracefully: GOAWAY, then fetches fail', async () => {
      const { a, b } = await setup();
      expect((await b.get('/whoami')).status).toBe(200);
      await a.close();
      await b.closed;
      expectNetworkError(await rejection(b.get('/whoami')));
      expectNetworkError(await rejection(a.get('/whoami')));
    });
  });
}
