import type { MemoryTransport } from '../../src/transports/memory.js';

/** Everything `transport` sends, message by message (copies: the sender may reuse buffers). */
export function recordSends(transport: MemoryTransport): Uint8Array[] {
  const sent: Uint8Array[] = [];
  const send = transport.send.bind(transport);
  transport.send = (message) => {
    sent.push(message.slice());
    send(message);
  };
  return sent;
}
