import { getEventListeners } from 'node:events';
import { expect, it } from 'vitest';
import { createPeerHttp } from '../src/session.js';
import { createMemoryTransportPair } from '../src/transports/memory.js';

it('removes its abort listener from a long-lived signal once each stream closes', async () => {
  const [ta, tb] = createMemoryTransportPair();
  const server = createPeerHttp(tb, { handler: () => new Response('ok') });
  const client = createPeerHttp(ta);
  const controller = new AbortController();
  for (let i = 0; i < 20; i++) {
    const response = await client.get('/', { signal: controller.signal });
    expect(await response.text()).toBe('ok');
  }
  expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
  await client.close();
  await server.closed;
});
