import { createMemoryTransportPair } from '../../src/transports/memory.js';
import { runComplianceSuite } from './suite.js';

runComplianceSuite('in-memory pair', () => {
  const [a, b] = createMemoryTransportPair();
  return Promise.resolve({
    a,
    b,
    close: () => {
      a.close();
      b.close();
      return Promise.resolve();
    },
  });
});

runComplianceSuite(
  'in-memory pair, 64 KiB messages, throughput-limited',
  () => {
    const [a, b] = createMemoryTransportPair({
      maxMessageSize: 65536,
      bytesPerSecond: 64 * 1024 * 1024,
    });
    return Promise.resolve({
      a,
      b,
      close: () => {
        a.close();
        b.close();
        return Promise.resolve();
      },
    });
  },
  { bigBodyBytes: 8 * 1024 * 1024 },
);
