// The muxer's send queue in a runtime without setImmediate (a browser): frames queued by the
// code running now still share one message, and that message leaves at the next microtask
// checkpoint, not after a task hop (a MessageChannel task costs Chromium tens of µs per round
// trip). The library is imported afresh with setImmediate hidden, as a page has none.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type * as PeerHttp from '../src/index.js';
import type * as Memory from '../src/transports/memory.js';
import { recordSends } from './support/record-sends.js';

let lib: typeof PeerHttp;
let memory: typeof Memory;
let cleanup: Array<() => Promise<unknown>> = [];

beforeEach(async () => {
  vi.resetModules();
  vi.stubGlobal('setImmediate', undefined);
  lib = await import('../src/index.js');
  memory = await import('../src/transports/memory.js');
});

afterEach(async () => {
  vi.unstubAllGlobals();
  for (const fn of cleanup.reverse()) await fn().catch(() => undefined);
  cleanup = [];
});

async function pair(server: PeerHttp.PeerHttpOptions) {
  const [ta, tb] = memory.createMemoryTransportPair();
  const clientSent = recordSends(ta);
  const serverSent = recordSends(tb);
  const client = lib.createPeerFetch(ta);
  const peer = lib.createPeerHttp(tb, server);
  cleanup.push(() => Promise.allSettled([client.close(), peer.close()]));
  await Promise.all([client.ready, peer.ready]);
  expect(typeof globalThis.setImmediate).toBe('undefined'); // the page's runtime, really
  clientSent.length = 0;
  serverSent.length = 0;
  return { client, clientSent, serverSent };
}

const types = (message: Uint8Array) =>
  lib.decodeAll(message, { maxFrameSize: 65536 }).map((frame) => frame.type);

describe('the send queue without setImmediate (a browser)', () => {
  it('sends a request at the microtask checkpoint, before any task runs', async () => {
    const { client, clientSent } = await pair({ handler: () => new Response('pong') });
    let taskRan = false;
    setTimeout(() => {
      taskRan = true;
    }, 0);
    const response = client.fetch('http://peer/small');
    expect(clientSent).toHaveLength(0); // queued, not yet written
    for (let i = 0; i < 5 && clientSent.length === 0; i++) await Promise.resolve();
    expect(taskRan).toBe(false);
    expect(clientSent.map(types)).toEqual([['HEADERS', 'END']]);
    expect(await (await response).text()).toBe('pong');
  });

  it('answers a small GET with one message: HEADERS, DATA and END', async () => {
    const { client, serverSent } = await pair({
      coreHandler: () => ({ status: 200, body: 'pong' }),
    });
    const response = await client.request({ target: '/small' });
    expect(await response.text()).toBe('pong');
    expect(serverSent.map(types)).toEqual([['HEADERS', 'DATA', 'END']]);
  });

  it('sends the requests made in one run of code as one message', async () => {
    const { client, clientSent, serverSent } = await pair({
      coreHandler: (request) => ({ status: 200, body: request.target }),
    });
    const targets = Array.from({ length: 20 }, (_, i) => `/r${i}`);
    const bodies = await Promise.all(
      targets.map(async (target) => (await client.request({ target })).text()),
    );
    expect(bodies).toEqual(targets);
    expect(clientSent).toHaveLength(1);
    expect(types(clientSent[0]!)).toHaveLength(40); // HEADERS + END each
    // the 20 synchronous replies to that one message share one message too
    expect(serverSent).toHaveLength(1);
  });
});
