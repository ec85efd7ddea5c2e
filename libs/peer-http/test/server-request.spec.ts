// The fetch-style handler's Request carries peer-http's own abort signal (made when first
// asked for, not followed through undici): it must still abort everywhere a handler can
// reach it when the client goes away.
import { afterEach, expect, it } from 'vitest';
import { createPeerHttp, type PeerHttpHandler } from '../src/session.js';
import { createMemoryTransportPair } from '../src/transports/memory.js';
import { rejection } from './support/rejection.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const until = async (check: () => boolean) => {
  while (!check()) await sleep(2);
};

let cleanup: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const fn of cleanup.reverse()) await fn().catch(() => undefined);
  cleanup = [];
});

function pair(handler: PeerHttpHandler) {
  const [ta, tb] = createMemoryTransportPair();
  const server = createPeerHttp(tb, { handler });
  const client = createPeerHttp(ta);
  cleanup.push(() => Promise.allSettled([client.close(), server.close()]));
  return client;
}

const aborted = (signal: AbortSignal) =>
  new Promise<unknown>((resolve) => {
    if (signal.aborted) resolve(signal.reason);
    else signal.addEventListener('abort', () => resolve(signal.reason), { once: true });
  });

it('aborts request.signal, a clone’s and a Request made from it when the client aborts', async () => {
  let reasons: unknown[] | undefined;
  let started = false;
  const client = pair(async (request) => {
    expect(request).toBeInstanceOf(Request);
    const clone = request.clone();
    const forwarded = new Request('http://upstream.test/x', request);
    started = true;
    reasons = await Promise.all([request, clone, forwarded].map((r) => aborted(r.signal)));
    return new Response('too late');
  });
  const controller = new AbortController();
  const pending = client.get('/hang', { signal: controller.signal });
  await until(() => started);
  controller.abort();
  expect(((await rejection(pending)) as DOMException).name).toBe('AbortError');
  await until(() => reasons !== undefined);
  expect(reasons).toHaveLength(3);
  for (const reason of reasons!) expect(reason).toBeInstanceOf(TypeError);
});

it('hands a handler that asks for the signal only after the client left an aborted one', async () => {
  let gone = false;
  let late: AbortSignal | undefined;
  const client = pair(async (request) => {
    await until(() => gone);
    await sleep(20); // the RESET arrives meanwhile; the signal does not exist yet
    late = request.signal;
    return new Response('too late');
  });
  const controller = new AbortController();
  const pending = client.get('/late', { signal: controller.signal });
  await sleep(10);
  controller.abort();
  await rejection(pending);
  gone = true;
  await until(() => late !== undefined);
  expect(late!.aborted).toBe(true);
  expect(late!.reason).toBeInstanceOf(TypeError);
});

it('keeps method, headers and body in a clone', async () => {
  const client = pair(async (request) => {
    const clone = request.clone();
    return Response.json({
      method: clone.method,
      header: clone.headers.get('x-a'),
      cloned: await clone.text(),
      original: await request.text(),
    });
  });
  const response = await client.post('/echo', 'hello', { headers: { 'x-a': 'b' } });
  expect(await response.json()).toEqual({
    method: 'POST',
    header: 'b',
    cloned: 'hello',
    original: 'hello',
  });
});
