import { expect, it } from 'vitest';
import { verifyConfig } from '../src/config.js';
import { PeerHttpError, ReasonCode } from '../src/errors.js';
import { Muxer } from '../src/muxer.js';
import { createMemoryTransportPair } from '../src/transports/memory.js';

it('gives a freed stream slot to the opener already waiting, not to one that comes after', async () => {
  const [ta, tb] = createMemoryTransportPair();
  const client = new Muxer(ta, verifyConfig());
  const server = new Muxer(tb, verifyConfig({ maxConcurrentStreams: 1 }));
  await client.ready;
  const first = await client.openStream();
  const settled: string[] = [];
  const waiting = client.openStream(); // the peer allows one stream: this one waits
  void waiting.then(() => settled.push('waiting'));
  await new Promise((resolve) => setTimeout(resolve, 5));
  expect(settled).toEqual([]);

  first.fail(new PeerHttpError(ReasonCode.CANCEL, 'done', { scope: 'stream' }), false);
  const late = client.openStream(); // the very moment the slot freed
  void late.then(() => settled.push('late'));
  const stream = await waiting;
  await new Promise((resolve) => setTimeout(resolve, 5));
  expect(settled).toEqual(['waiting']);

  stream.fail(new PeerHttpError(ReasonCode.CANCEL, 'done', { scope: 'stream' }), false);
  expect((await late).id).toBeGreaterThan(stream.id);
  await client.close();
  await server.closed;
});
