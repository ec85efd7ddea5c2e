// The transport-agnostic compliance suite over two node-datachannel peers on loopback.
import { afterAll } from 'vitest';
import { runComplianceSuite } from '../compliance/suite.js';
import { cleanupNodeDataChannel, connectNodePair } from './node-pair.js';

afterAll(() => cleanupNodeDataChannel());

runComplianceSuite('node-datachannel', async () => {
  const pair = await connectNodePair();
  return { a: pair.a, b: pair.b, close: () => pair.close() };
});
