// The core API (request(), coreHandler): header lists and byte bodies without WHATWG objects,
// over the in-memory pair. The compliance suite runs its interop test over every transport.
import { afterEach, describe, expect, it } from 'vitest';
import { verifyConfig } from '../src/config.js';
import { decodeAll } from '../src/decode.js';
import { encodeHeaderBlock } from '../src/encode.js';
import { PeerHttpError, ReasonCode } from '../src/errors.js';
import type { HeaderList, RequestHeadersFrame, ResponseHeadersFrame } from '../src/frame.js';
import { Muxer } from '../src/muxer.js';
import {
  createPeerFetch,
  createPeerHttp,
  type PeerCoreHandler,
  type PeerHttpOptions,
  type PeerHttpSession,
  type PeerRequest,
} from '../src/session.js';
import { createMemoryTransportPair } from '../src/transports/memory.js';
import { recordSends } from './support/record-sends.js';
import { rejection } from './support/rejection.js';

const utf8 = new TextEncoder();
let cleanup: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const fn of cleanup.reverse()) await fn().catch(() => undefined);
  cleanup = [];
});

async function pair(server: PeerHttpOptions, client: PeerHttpOptions = {}) {
  const [ta, tb] = createMemoryTransportPair();
  const serverSent = recordSends(tb);
  const a = createPeerFetch(ta, client);
  const b = createPeerHttp(tb, server);
  cleanup.push(() => Promise.allSettled([a.close(), b.close()]));
  await Promise.all([a.ready, b.ready]);
  return { a, b, serverSent };
}

function expectNetworkError(error: unknown, code: number): void {
  expect(error).toBeInstanceOf(TypeError);
  expect((error as TypeError).cause).toBeInstanceOf(PeerHttpError);
  expect(((error as TypeError).cause as PeerHttpError).code).toBe(code);
}

/** Echoes what it received: method, target, fields and body as JSON. */
const echo: PeerCoreHandler = async (request) => ({
  status: 200,
  headers: [['content-type', 'application/json']],
  body: JSON.stringify({
    method: request.method,
    target: request.target,
    headers: request.headers,
    body: await request.text(),
    hasBody: request.body !== null,
  }),
});

describe('core API', () => {
  it('sends the fields as given and gets the response as a header list and bytes', async () => {
    const { a } = await pair({ coreHandler: echo });
    const response = await a.request({
      method: 'post',
      target: '/x?y=1',
      headers: [
        ['x-one', '1'],
        ['x-one', '2'],
        ['content-type', 'text/plain'],
      ],
      body: 'héllo',
    });
    expect(response.status).toBe(200);
    expect(response.headers).toEqual([['content-type', 'application/json']]);
    expect(JSON.parse(await response.text())).toEqual({
      method: 'POST', // normalized as fetch does
      target: '/x?y=1',
      headers: [
        ['x-one', '1'],
        ['x-one', '2'],
        ['content-type', 'text/plain'],
      ],
      body: 'héllo',
      hasBody: true,
    });

    const get = await a.request({ target: '/' });
    expect(JSON.parse(await get.text())).toMatchObject({ method: 'GET', hasBody: false });
    const custom = await a.request({ method: 'Purge', target: '/cache' });
    expect(JSON.parse(await custom.text())).toMatchObject({ method: 'Purge' }); // not normalized
  });

  it('streams bodies both ways, a byte at a time if need be', async () => {
    const { a } = await pair({
      coreHandler: (request) => ({ status: 200, body: request.body }), // streams back
    });
    const chunks = ['a', 'bc', 'def'].map((s) => utf8.encode(s));
    const upload = new ReadableStream<Uint8Array>({
      pull(controller) {
        const next = chunks.shift();
        if (next) controller.enqueue(next);
        else controller.close();
      },
    });
    const response = await a.request({ method: 'PUT', target: '/echo', body: upload });
    expect(new TextDecoder().decode(await response.bytes())).toBe('abcdef');

    const bytes = new Uint8Array(300_000).map((_, i) => i % 251);
    const big = await a.request({ method: 'POST', target: '/echo', body: bytes });
    const received = await big.bytes();
    expect(received.length).toBe(bytes.length);
    expect(received.findIndex((byte, i) => byte !== bytes[i])).toBe(-1); // toEqual is slow here
  });

  it('reads a body far beyond the stream window with bytes(), returning credit as it goes', async () => {
    const total = 1024 * 1024;
    const { a } = await pair(
      {
        coreHandler: () => {
          let left = total;
          return {
            status: 200,
            body: new ReadableStream<Uint8Array>({
              pull(controller) {
                if (left === 0) return controller.close();
                const n = Math.min(left, 10_000);
                left -= n;
                controller.enqueue(new Uint8Array(n).fill(n % 256));
              },
            }),
          };
        },
      },
      { initialStreamWindow: 65536, initialConnectionWindow: 65536 },
    );
    const response = await a.request({ target: '/big' });
    const body = await response.bytes();
    expect(body.length).toBe(total);
    // read once: again, or through body, fails like a used Response body
    await expect(response.bytes()).rejects.toThrow(TypeError);
    await expect(response.body!.getReader().read()).rejects.toThrow(/already read/);
  });

  it('fails bytes() like a reader: on abort with the reason, on a lost peer with a TypeError', async () => {
    const [ta, tb] = createMemoryTransportPair();
    const a = createPeerFetch(ta);
    const b = createPeerHttp(tb, {
      coreHandler: () => ({
        status: 200,
        body: new ReadableStream<Uint8Array>({
          start(controller) {
            controller.enqueue(new Uint8Array(10)); // then nothing: the body never ends
          },
        }),
      }),
    });
    cleanup.push(() => Promise.allSettled([a.close(), b.close()]));
    const controller = new AbortController();
    const aborted = await a.request({ target: '/', signal: controller.signal });
    const reading = aborted.bytes();
    controller.abort(new Error('enough'));
    await expect(reading).rejects.toThrow('enough');

    const lost = await a.request({ target: '/' });
    const lostReading = lost.bytes();
    tb.destroy(new Error('gone'));
    const error = await rejection(lostReading);
    expect(error).toBeInstanceOf(TypeError);
    expect((error as TypeError).cause).toBeInstanceOf(PeerHttpError);
  });

  it('sends a small reply as one message: HEADERS, DATA and END', async () => {
    const { a, serverSent } = await pair({
      coreHandler: () => ({ status: 200, body: 'pong' }),
    });
    serverSent.length = 0;
    const response = await a.request({ target: '/small' });
    expect(await response.text()).toBe('pong');
    expect(serverSent).toHaveLength(1);
    const frames = decodeAll(serverSent[0]!, { maxFrameSize: 65536 }).map((frame) => frame.type);
    expect(frames).toEqual(['HEADERS', 'DATA', 'END']);
  });

  it('sends a small request body whole: HEADERS, DATA and END in one message, nothing after', async () => {
    const [ta, tb] = createMemoryTransportPair();
    const clientSent = recordSends(ta);
    const a = createPeerFetch(ta);
    const b = createPeerHttp(tb, { coreHandler: echo });
    cleanup.push(() => Promise.allSettled([a.close(), b.close()]));
    await Promise.all([a.ready, b.ready]);
    clientSent.length = 0;
    const response = await a.request({ method: 'POST', target: '/in', body: 'hello' });
    expect(JSON.parse(await response.text())).toMatchObject({ method: 'POST', body: 'hello' });
    await new Promise((resolve) => setTimeout(resolve, 5));
    expect(clientSent).toHaveLength(1);
    const frames = decodeAll(clientSent[0]!, { maxFrameSize: 65536 });
    expect(frames.map((frame) => frame.type)).toEqual(['HEADERS', 'DATA', 'END']);
    expect(frames[1]).toMatchObject({ data: utf8.encode('hello') });
  });

  it('does not reset a GET whose END follows its HEADERS in the same message', async () => {
    // the reply is queued while the request's END is still unread: no RESET NO_ERROR for it
    const { a, serverSent } = await pair({
      coreHandler: () => ({ status: 200, body: 'pong' }),
    });
    serverSent.length = 0;
    for (let i = 0; i < 3; i++)
      expect(await (await a.request({ target: '/' })).text()).toBe('pong');
    await new Promise((resolve) => setTimeout(resolve, 5));
    const frames = serverSent.flatMap((m) => decodeAll(m, { maxFrameSize: 65536 }));
    expect(frames.map((frame) => frame.type)).toEqual(
      Array(3).fill(['HEADERS', 'DATA', 'END']).flat(),
    );
  });

  it('sends a synchronous reply and a PONG from inside the message callback, as a raw echo', async () => {
    const [ta, tb] = createMemoryTransportPair();
    const serverSent = recordSends(tb);
    // note how many messages the server had sent when each of its message callbacks returned
    const sentWhenCallbackReturned: number[] = [];
    const onMessage = tb.onMessage.bind(tb);
    tb.onMessage = (listener) =>
      onMessage(
        listener &&
          ((message) => {
            listener(message);
            sentWhenCallbackReturned.push(serverSent.length);
          }),
      );
    const a = createPeerFetch(ta);
    const b = createPeerHttp(tb, { coreHandler: () => ({ status: 200, body: 'pong' }) });
    cleanup.push(() => Promise.allSettled([a.close(), b.close()]));
    await Promise.all([a.ready, b.ready]);
    for (const call of [() => a.ping(), () => a.request({ target: '/' })]) {
      const before = serverSent.length;
      sentWhenCallbackReturned.length = 0;
      await call();
      expect(serverSent.length).toBe(before + 1);
      expect(sentWhenCallbackReturned).toEqual([before + 1]);
    }
  });

  it('interoperates with the fetch API in both directions', async () => {
    const { a } = await pair({ coreHandler: echo });
    const viaFetch = await a.fetch('/f', {
      method: 'PUT',
      headers: { 'x-a': 'b' },
      body: 'text',
    });
    expect(viaFetch.headers.get('content-type')).toBe('application/json');
    expect(await viaFetch.json()).toMatchObject({
      method: 'PUT',
      headers: [
        ['content-type', 'text/plain;charset=UTF-8'], // fetch adds it for a string body
        ['x-a', 'b'],
      ],
      body: 'text',
    });

    const [tc, td] = createMemoryTransportPair();
    const c = createPeerFetch(tc);
    const d = createPeerHttp(td, {
      handler: async (request) =>
        new Response(`${request.method} ${new URL(request.url).pathname} ${await request.text()}`, {
          headers: { 'x-b': request.headers.get('x-a') ?? '' },
        }),
    });
    cleanup.push(() => Promise.allSettled([c.close(), d.close()]));
    const core = await c.request({
      method: 'POST',
      target: '/g',
      headers: [['x-a', 'z']],
      body: 'payload',
    });
    expect(await core.text()).toBe('POST /g payload');
    expect(core.headers).toContainEqual(['x-b', 'z']);
  });

  it('drops hop-by-hop fields and those connection names, both ways', async () => {
    // a muxer-level server sees exactly what went over the wire
    const [ta, tb] = createMemoryTransportPair();
    const client = createPeerFetch(ta);
    const server = new Muxer(tb, verifyConfig());
    cleanup.push(() => Promise.allSettled([client.close(), server.close()]));
    const seen: HeaderList[] = [];
    server.onStream = (incoming) => {
      seen.push((incoming.request as RequestHeadersFrame).headers);
      incoming.stream.discardBody();
      const frame: ResponseHeadersFrame = {
        type: 'HEADERS',
        streamId: incoming.stream.id,
        kind: 'response',
        status: 200,
        headers: [
          ['keep-alive', 'timeout=5'],
          ['x-kept', '1'],
        ],
      };
      server.sendHeaders(frame, encodeHeaderBlock(frame), true);
      incoming.stream.endSent();
    };
    const response = await client.request({
      target: '/',
      headers: [
        ['connection', 'x-private, Keep-Alive'],
        ['x-private', 'secret'],
        ['transfer-encoding', 'chunked'],
        ['x-public', 'ok'],
      ],
    });
    expect(seen).toEqual([[['x-public', 'ok']]]);
    expect(response.headers).toEqual([['x-kept', '1']]);
    expect(response.body).not.toBeNull();
    expect(await response.bytes()).toEqual(new Uint8Array(0));
  });

  it('has no body for HEAD and for 204 / 304, and an empty one otherwise', async () => {
    const { a } = await pair({
      coreHandler: (request) => ({
        status: Number(request.target.slice(1)),
        headers: [['content-length', '5']],
        body: request.method === 'HEAD' || request.target === '/200' ? 'hello' : null,
      }),
    });
    const head = await a.request({ method: 'HEAD', target: '/200' });
    expect([head.status, head.body, head.headers]).toEqual([200, null, [['content-length', '5']]]);
    expect(await head.text()).toBe('');
    for (const status of [204, 304]) {
      const response = await a.request({ target: `/${status}` });
      expect([response.status, response.body]).toEqual([status, null]);
    }
    expect(await (await a.request({ target: '/200' })).text()).toBe('hello');
    const empty = await a.request({ target: '/404' });
    expect(empty.body).not.toBeNull();
    expect(await empty.bytes()).toEqual(new Uint8Array(0));
  });

  it('refuses bad input locally with a TypeError, before anything is sent', async () => {
    const served: string[] = [];
    const { a, b } = await pair({
      coreHandler: (request) => {
        served.push(request.target);
        return echo(request);
      },
    });
    const bad: Array<[string, () => Promise<unknown>]> = [
      ['uppercase field name', () => a.request({ target: '/', headers: [['X-Up', '1']] })],
      ['CR in a value', () => a.request({ target: '/', headers: [['x-a', 'a\r\nx-b: c']] })],
      ['not pairs', () => a.request({ target: '/', headers: [['x-a']] as unknown as HeaderList })],
      [
        'a number value',
        () => a.request({ target: '/', headers: [['x-a', 1]] as unknown as HeaderList }),
      ],
      ['absolute target', () => a.request({ target: 'http://evil/' })],
      ['target with a space', () => a.request({ target: '/a b' })],
      ['no target', () => a.request({} as unknown as { target: string })],
      ['method with a space', () => a.request({ method: 'GET X', target: '/' })],
      ['GET with a body', () => a.request({ target: '/', body: 'x' })],
      [
        'a number body',
        () => a.request({ method: 'POST', target: '/', body: 42 as unknown as string }),
      ],
    ];
    for (const [what, call] of bad) {
      const error = await rejection(call());
      expect(error, what).toBeInstanceOf(TypeError);
    }
    // the session is unharmed, and no stream reached the server
    const ok = await a.request({ target: '/after' });
    expect(ok.status).toBe(200);
    expect(JSON.parse(await ok.text())).toMatchObject({ target: '/after' });
    expect(served).toEqual(['/after']);
    expect(b.closeReason).toBeUndefined();
  });

  it('cancels a body stream it will not send, with the reason (request() and fetch())', async () => {
    const { a } = await pair({ coreHandler: echo });
    const reasons: unknown[] = [];
    const source = () =>
      new ReadableStream<Uint8Array>({
        cancel(reason) {
          reasons.push(reason);
        },
      });
    await rejection(a.request({ target: '/', body: source() })); // GET with a body
    await rejection(
      a.request({ method: 'POST', target: '/', headers: [['X-Up', '1']], body: source() }),
    );
    const uploads = source();
    const controller = new AbortController();
    controller.abort(new Error('stop'));
    await rejection(
      a.request({ method: 'PUT', target: '/', body: uploads, signal: controller.signal }),
    );
    // the same for fetch(): a GET with a body, a bad header, an aborted signal
    await rejection(a.fetch('/', { body: source(), duplex: 'half' } as RequestInit));
    await rejection(
      a.fetch('/', {
        method: 'POST',
        headers: { 'x-a': 'ā' },
        body: source(),
        duplex: 'half',
      } as RequestInit),
    );
    await rejection(
      a.fetch('/', {
        method: 'POST',
        body: source(),
        signal: controller.signal,
        duplex: 'half',
      } as RequestInit),
    );
    expect(reasons).toHaveLength(6);
    expect(reasons[5]).toEqual(new Error('stop'));
    expect(reasons.slice(0, 2).every((reason) => reason instanceof TypeError)).toBe(true);
    expect(reasons[2]).toEqual(new Error('stop')); // an aborted signal: its reason
  });

  it('awaits a reply from any thenable, not only a native Promise', async () => {
    const { a } = await pair({
      coreHandler: () =>
        ({
          then: (resolve: (reply: { status: number; body: string }) => void) =>
            resolve({ status: 202, body: 'later' }),
        }) as unknown as Promise<{ status: number; body: string }>,
    });
    const response = await a.request({ target: '/' });
    expect([response.status, await response.text()]).toEqual([202, 'later']);
  });

  it('turns a throwing handler or a bad reply into a bare 500 and tells onError', async () => {
    const errors: Array<[unknown, PeerRequest | Request | undefined]> = [];
    let cancelled = false;
    const { a } = await pair({
      coreHandler: (request) => {
        switch (request.target) {
          case '/throw':
            throw new Error('secret detail');
          case '/status':
            return {
              status: 101,
              body: new ReadableStream({
                cancel() {
                  cancelled = true;
                },
              }),
            };
          case '/body':
            return { status: 200, body: 42 as unknown as string };
          case '/fields':
            return { status: 200, headers: [['Bad Name', 'x']] };
          default:
            return undefined as unknown as { status: number };
        }
      },
      onError: (error, request) => errors.push([error, request]),
    });
    for (const target of ['/throw', '/status', '/body', '/fields', '/none']) {
      const response = await a.request({ target });
      expect(response.status, target).toBe(500);
      const text = await response.text();
      expect(text).not.toContain('secret');
    }
    expect(cancelled).toBe(true); // the refused reply's stream was released
    expect(errors).toHaveLength(5);
    expect((errors[0]![0] as Error).message).toBe('secret detail');
    expect((errors[0]![1] as PeerRequest).target).toBe('/throw');
  });

  it('resets the stream when a body source fails, and cancels a source whose stream stops', async () => {
    // a request body that fails: the server reading it and the client both see CANCEL
    let serverRead: unknown;
    const errors: unknown[] = [];
    const { a } = await pair({
      coreHandler: async (request) => {
        serverRead = await rejection(request.bytes());
        return { status: 200 };
      },
      onError: (error) => errors.push(error),
    });
    let pulls = 0;
    const failingUpload = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (pulls++ === 0) controller.enqueue(utf8.encode('first'));
        else controller.error(new Error('disk gone'));
      },
    });
    const uploadError = await rejection(
      a.request({ method: 'POST', target: '/up', body: failingUpload }),
    );
    expectNetworkError(uploadError, ReasonCode.CANCEL);
    expect(((uploadError as TypeError).cause as PeerHttpError).cause).toMatchObject({
      message: 'disk gone',
    });
    while (serverRead === undefined) await new Promise((resolve) => setTimeout(resolve, 5));
    expectNetworkError(serverRead, ReasonCode.CANCEL);

    // a response body that fails: the client's read fails with INTERNAL_ERROR, onError hears it
    const [tc, td] = createMemoryTransportPair();
    const client = createPeerFetch(tc);
    let cancelledWith: unknown;
    const server = createPeerHttp(td, {
      coreHandler: (request) => ({
        status: 200,
        body: new ReadableStream<Uint8Array>({
          pull(controller) {
            if (request.target === '/fail') controller.error(new Error('encoder crashed'));
            else controller.enqueue(new Uint8Array(1024));
          },
          cancel(reason) {
            cancelledWith = reason;
          },
        }),
      }),
      onError: (error) => errors.push(error),
    });
    cleanup.push(() => Promise.allSettled([client.close(), server.close()]));
    const failing = await client.request({ target: '/fail' });
    expectNetworkError(await rejection(failing.bytes()), ReasonCode.INTERNAL_ERROR);
    expect(errors).toEqual([expect.objectContaining({ message: 'encoder crashed' })]);

    // an endless body whose reader goes away: the source is cancelled with the reason
    const controller = new AbortController();
    const endless = await client.request({ target: '/endless', signal: controller.signal });
    const reader = endless.body!.getReader();
    await reader.read();
    controller.abort();
    while (cancelledWith === undefined) await new Promise((resolve) => setTimeout(resolve, 5));
    expect(cancelledWith).toBeInstanceOf(PeerHttpError);
    expect((cancelledWith as PeerHttpError).code).toBe(ReasonCode.CANCEL);
  });

  it('aborts: the client rejects with the reason and the handler’s signal fires', async () => {
    let aborted: unknown;
    const { a } = await pair({
      coreHandler: (request) =>
        new Promise((resolve) => {
          request.signal.addEventListener('abort', () => {
            aborted = request.signal.reason;
            resolve({ status: 200 });
          });
        }),
    });
    const controller = new AbortController();
    const pending = a.request({ target: '/hang', signal: controller.signal });
    setTimeout(() => controller.abort(), 20);
    const error = await rejection(pending);
    expect((error as DOMException).name).toBe('AbortError');
    while (aborted === undefined) await new Promise((resolve) => setTimeout(resolve, 5));
    expectNetworkError(aborted, ReasonCode.CANCEL);

    const timedOut = await rejection(a.request({ target: '/hang', timeout: 50 }));
    expectNetworkError(timedOut, ReasonCode.TIMEOUT);
  });

  it('fails a request like fetch when the connection drops', async () => {
    const [ta, tb] = createMemoryTransportPair();
    const a = createPeerFetch(ta);
    const b = createPeerHttp(tb, { coreHandler: () => new Promise(() => undefined) });
    cleanup.push(() => Promise.allSettled([a.close(), b.close()]));
    await a.ready;
    const pending = a.request({ target: '/never' });
    setTimeout(() => tb.destroy(new Error('gone')), 20);
    const error = await rejection(pending);
    expect(error).toBeInstanceOf(TypeError);
    expect((error as TypeError).cause).toBeInstanceOf(PeerHttpError);
  });

  it('takes one handler kind per session, and functions only', () => {
    const [ta] = createMemoryTransportPair();
    expect(() =>
      createPeerHttp(ta, { handler: () => new Response(), coreHandler: () => ({ status: 200 }) }),
    ).toThrow(/either handler or coreHandler/);
    expect(() => createPeerHttp(ta, { coreHandler: 'x' as unknown as PeerCoreHandler })).toThrow(
      /coreHandler must be a function/,
    );
    ta.close();
  });

  it('needs a server: a client-only peer refuses core requests too', async () => {
    const [ta, tb] = createMemoryTransportPair();
    const a: PeerHttpSession = createPeerFetch(ta);
    const b = createPeerFetch(tb);
    cleanup.push(() => Promise.allSettled([a.close(), b.close()]));
    const error = await rejection(a.request({ target: '/' }));
    expect(error).toBeInstanceOf(TypeError);
  });
});
