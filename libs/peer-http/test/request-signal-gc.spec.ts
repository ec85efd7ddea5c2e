// Regression: Node's Request follows its abort signal through a weak reference, so a
// handler that keeps only `request.signal` missed aborts after a GC (nodejs/node#55428).
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { expect, it } from 'vitest';
import { createPeerHttp } from '../src/session.js';
import { createMemoryTransportPair } from '../src/transports/memory.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

it('aborts request.signal after a garbage collection when the client resets the stream', async () => {
  const [ta, tb] = createMemoryTransportPair();
  let started = false;
  let aborted = false;
  const server = createPeerHttp(tb, {
    handler: async (request) => {
      const signal = request.signal; // the handler keeps only the signal
      started = true;
      await new Promise<void>((resolve) =>
        signal.addEventListener('abort', () => {
          aborted = true;
          resolve();
        }),
      );
      return new Response('late');
    },
  });
  const client = createPeerHttp(ta);
  const controller = new AbortController();
  const pending = client.get('/hang', { signal: controller.signal }).catch((e: unknown) => e);
  while (!started) await sleep(2);
  gc();
  await sleep(10);
  gc();
  controller.abort();
  expect(((await pending) as DOMException).name).toBe('AbortError');
  while (!aborted) await sleep(2);
  expect(aborted).toBe(true);
  await client.close();
  await server.closed;
});
