/** fast-check generators for valid frames (shared by codec tests and the fuzz script). */
import fc from 'fast-check';
import { LIMITS } from '../../src/config.js';
import { MAX_INT31, PROTOCOL_VERSION, type Frame, type HeaderList } from '../../src/frame.js';

export const streamIdArb = fc.integer({ min: 1, max: MAX_INT31 });
export const headerNameArb = fc.stringMatching(/^[a-z0-9][a-z0-9!#$%&'*+.^_`|~-]{0,15}$/);
export const headerValueArb = fc.stringMatching(/^[\t\x20-\x7e\x80-\xff]{0,24}$/);
export const headersArb: fc.Arbitrary<HeaderList> = fc.array(
  fc.tuple(headerNameArb, headerValueArb),
  {
    maxLength: 6,
  },
);
const limit = (name: keyof typeof LIMITS) =>
  fc.integer({ min: LIMITS[name][0], max: LIMITS[name][1] });

export const helloArb: fc.Arbitrary<Frame> = fc
  .record({
    tiebreaker: fc.uint8Array({ minLength: 8, maxLength: 8 }),
    maxFrameSize: limit('maxFrameSize'),
    maxConcurrentStreams: limit('maxConcurrentStreams'),
    initialStreamWindow: limit('initialStreamWindow'),
    initialConnectionWindow: limit('initialConnectionWindow'),
    headerFraction: fc.double({ min: 0, max: 1, noNaN: true }),
  })
  .map(({ headerFraction, ...rest }) => ({
    type: 'HELLO' as const,
    version: PROTOCOL_VERSION,
    ...rest,
    maxHeaderBytes: Math.max(
      LIMITS.maxHeaderBytes[0],
      Math.floor(
        LIMITS.maxHeaderBytes[0] + headerFraction * (rest.maxFrameSize - LIMITS.maxHeaderBytes[0]),
      ),
    ),
  }));

export const frameArb: fc.Arbitrary<Frame> = fc.oneof(
  helloArb,
  fc.record({
    type: fc.constant('HEADERS' as const),
    streamId: streamIdArb,
    kind: fc.constant('request' as const),
    method: fc.stringMatching(/^[A-Za-z!#$%&'*+.^_`|~-]{1,12}$/),
    target: fc.stringMatching(/^\/[\x21-\x7e]{0,30}$/),
    headers: headersArb,
  }),
  fc.record({
    type: fc.constant('HEADERS' as const),
    streamId: streamIdArb,
    kind: fc.constant('response' as const),
    status: fc.integer({ min: 200, max: 599 }),
    headers: headersArb,
  }),
  fc.record({
    type: fc.constant('DATA' as const),
    streamId: streamIdArb,
    data: fc.uint8Array({ maxLength: 200 }),
  }),
  fc.record({ type: fc.constant('END' as const), streamId: streamIdArb }),
  fc.record({
    type: fc.constant('RESET' as const),
    streamId: streamIdArb,
    code: fc.nat({ max: 0xffffffff }),
  }),
  fc.record({
    type: fc.constant('WINDOW_UPDATE' as const),
    streamId: fc.integer({ min: 0, max: MAX_INT31 }),
    increment: fc.integer({ min: 1, max: MAX_INT31 }),
  }),
  fc.record({
    type: fc.constant('PING' as const),
    data: fc.uint8Array({ minLength: 8, maxLength: 8 }),
  }),
  fc.record({
    type: fc.constant('PONG' as const),
    data: fc.uint8Array({ minLength: 8, maxLength: 8 }),
  }),
  fc.record({
    type: fc.constant('GOAWAY' as const),
    lastStreamId: fc.integer({ min: 0, max: MAX_INT31 }),
    code: fc.nat({ max: 0xffffffff }),
    message: fc.string({ unit: 'grapheme', maxLength: 40 }),
  }),
);

/** Concatenates byte arrays. */
export function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}
