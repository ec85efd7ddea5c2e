import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { concat, frameArb } from '../test/support/arbitraries.js';
import { decodeAll, Decoder } from './decode.js';
import { encode, encodeDataInto, encodeHeaderBlock, encodeWhole } from './encode.js';
import { PeerHttpError, ReasonCode } from './errors.js';
import {
  FRAME_HEADER_SIZE,
  MAX_INT31,
  type DecodedFrame,
  type Frame,
  type HeadersFrame,
} from './frame.js';

const MAX = 0xffffff;
const opts = { maxFrameSize: MAX };

/** Feeds `bytes` cut at `cuts` (sorted offsets) and returns all frames. */
function decodeInPieces(bytes: Uint8Array, cuts: number[]): DecodedFrame[] {
  const decoder = new Decoder(opts);
  const frames: DecodedFrame[] = [];
  let last = 0;
  for (const cut of [...cuts, bytes.length]) {
    frames.push(...decoder.push(bytes.subarray(last, cut)));
    last = cut;
  }
  expect(decoder.bufferedBytes).toBe(0);
  return frames;
}

/** Drives a decoder over arbitrary input; returns the error, or undefined. Anything else escapes. */
function feedGarbage(decoder: Decoder, chunks: Uint8Array[]): PeerHttpError | undefined {
  try {
    for (const chunk of chunks) {
      for (const _ of decoder.push(chunk)) {
        // frames are fine; only the kind of failure matters
      }
      expect(decoder.bufferedBytes).toBeLessThanOrEqual(
        FRAME_HEADER_SIZE + decoder.maxFrameSize + chunk.length,
      );
    }
    return undefined;
  } catch (error) {
    if (error instanceof PeerHttpError) return error;
    throw error;
  }
}

const sample: Frame[] = [
  {
    type: 'HELLO',
    version: 1,
    tiebreaker: new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]),
    maxFrameSize: 65536,
    maxHeaderBytes: 16384,
    maxConcurrentStreams: 100,
    initialStreamWindow: 1 << 20,
    initialConnectionWindow: 1 << 24,
  },
  {
    type: 'HEADERS',
    streamId: 1,
    kind: 'request',
    method: 'GET',
    target: '/a?b=c',
    headers: [['accept', '*/*']],
  },
  { type: 'END', streamId: 1 },
  {
    type: 'HEADERS',
    streamId: 1,
    kind: 'response',
    status: 200,
    headers: [['content-type', 'text/plain']],
  },
  { type: 'DATA', streamId: 1, data: new Uint8Array([104, 105]) },
  { type: 'WINDOW_UPDATE', streamId: 0, increment: 2 },
  { type: 'PING', data: new Uint8Array(8).fill(7) },
  { type: 'RESET', streamId: 3, code: ReasonCode.CANCEL },
  { type: 'GOAWAY', lastStreamId: 1, code: 0, message: 'bye ✓' },
];

describe('codec', () => {
  it('round-trips every frame type: decode(encode(x)) = x', () => {
    fc.assert(
      fc.property(frameArb, (frame) => {
        expect(decodeAll(encode(frame), opts)).toEqual([frame]);
      }),
      { numRuns: 2000 },
    );
  });

  it('writes a DATA frame into a reused buffer exactly as encode does', () => {
    const out = new Uint8Array(FRAME_HEADER_SIZE + 4096).fill(0xee);
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: MAX_INT31 }),
        fc.uint8Array({ maxLength: 4096 }),
        (streamId, data) => {
          const frame = encodeDataInto(out, streamId, data);
          expect(frame.buffer).toBe(out.buffer);
          expect(frame).toEqual(encode({ type: 'DATA', streamId, data }));
        },
      ),
    );
    expect(() => encodeDataInto(new Uint8Array(13), 1, new Uint8Array(4))).toThrow(RangeError);
    expect(() => encodeDataInto(out, 0, new Uint8Array(4))).toThrow(PeerHttpError);
  });

  it('encodes a whole message (HEADERS, DATA unless empty, END) as the frames one by one', () => {
    const headersArb = frameArb.filter((f): f is HeadersFrame => f.type === 'HEADERS');
    fc.assert(
      fc.property(headersArb, fc.uint8Array({ maxLength: 300 }), (frame, data) => {
        const { streamId } = frame;
        const frames: Frame[] = [frame];
        if (data.length > 0) frames.push({ type: 'DATA', streamId, data });
        frames.push({ type: 'END', streamId });
        expect(encodeWhole(frame, encodeHeaderBlock(frame), data)).toEqual(
          concat(frames.map((f) => encode(f))),
        );
      }),
    );
  });

  it('decodes a stream split at every byte offset', () => {
    const bytes = concat(sample.map(encode));
    for (let cut = 0; cut <= bytes.length; cut++) {
      expect(decodeInPieces(bytes, [cut])).toEqual(sample);
    }
  });

  it('decodes one byte at a time and everything merged into one chunk', () => {
    const bytes = concat(sample.map(encode));
    expect(
      decodeInPieces(
        bytes,
        Array.from({ length: bytes.length }, (_, i) => i),
      ),
    ).toEqual(sample);
    expect(decodeAll(bytes, opts)).toEqual(sample);
  });

  it('decodes merged frames cut at random points', () => {
    fc.assert(
      fc.property(
        fc.array(frameArb, { minLength: 1, maxLength: 12 }),
        fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 20 }),
        (frames, fractions) => {
          const bytes = concat(frames.map(encode));
          const cuts = fractions.map((f) => Math.floor(f * bytes.length)).sort((a, b) => a - b);
          expect(decodeInPieces(bytes, cuts)).toEqual(frames);
        },
      ),
      { numRuns: 500 },
    );
  });

  it('garbage yields only PeerHttpError, with bounded buffering', () => {
    fc.assert(
      fc.property(
        fc.array(fc.uint8Array({ maxLength: 64 }), { maxLength: 8 }),
        fc.integer({ min: 16384, max: 70000 }),
        (chunks, maxFrameSize) => {
          feedGarbage(new Decoder({ maxFrameSize, maxHeaderBytes: 1024 }), chunks);
        },
      ),
      { numRuns: 3000 },
    );
  });

  it('mutated valid frames yield frames or a PeerHttpError, never another exception', () => {
    fc.assert(
      fc.property(
        fc.array(frameArb, { minLength: 1, maxLength: 5 }),
        fc.array(fc.tuple(fc.nat(), fc.nat({ max: 255 })), { minLength: 1, maxLength: 6 }),
        (frames, flips) => {
          const bytes = concat(frames.map(encode)).slice();
          for (const [at, value] of flips) bytes[at % bytes.length] = value;
          feedGarbage(new Decoder({ maxFrameSize: 65536, maxHeaderBytes: 2048 }), [bytes]);
        },
      ),
      { numRuns: 3000 },
    );
  });

  it('rejects an oversized length from the header alone, buffering nothing', () => {
    const decoder = new Decoder({ maxFrameSize: 16384 });
    const header = new Uint8Array([0x02, 0, 0, 0, 0, 1, 0, 0, 0x40, 0x01]);
    const error = feedGarbage(decoder, [header]);
    expect(error?.code).toBe(ReasonCode.FRAME_SIZE_ERROR);
    expect(decoder.bufferedBytes).toBe(0);
    // a spent decoder keeps failing with the same error
    expect(() => [...decoder.push(new Uint8Array(1))]).toThrow(error);
  });

  it('yields frames decoded before a malformed one, then throws', () => {
    const bytes = concat([
      encode({ type: 'END', streamId: 1 }),
      new Uint8Array([0x06, 0, 0, 0, 0, 0, 0, 0, 0, 1]),
    ]);
    const decoder = new Decoder(opts);
    const seen: DecodedFrame[] = [];
    expect(() => {
      for (const frame of decoder.push(bytes)) seen.push(frame);
    }).toThrow(PeerHttpError);
    expect(seen).toEqual([{ type: 'END', streamId: 1 }]);
  });

  it('refuses an unknown version with a clear error', () => {
    const hello = encode(sample[0]!).slice();
    hello[FRAME_HEADER_SIZE + 5] = 2;
    const error = feedGarbage(new Decoder(opts), [hello]);
    expect(error?.code).toBe(ReasonCode.VERSION_MISMATCH);
    expect(error?.message).toBe('peer-http version 2 is not supported; this peer speaks version 1');
  });

  it('reports oversized and malformed header blocks as stream-level rejections', () => {
    const big = encode({
      type: 'HEADERS',
      streamId: 5,
      kind: 'request',
      method: 'GET',
      target: '/',
      headers: [['x-big', 'a'.repeat(2000)]],
    });
    expect(decodeAll(big, { maxFrameSize: 65536, maxHeaderBytes: 1024 })).toEqual([
      expect.objectContaining({
        type: 'HEADERS_REJECTED',
        streamId: 5,
        code: ReasonCode.HEADER_TOO_LARGE,
        response: false,
      }),
    ]);
    const upper = encode({
      type: 'HEADERS',
      streamId: 7,
      kind: 'response',
      status: 200,
      headers: [['x', 'y']],
    }).slice();
    upper[upper.length - 3] = 0x58; // 'x' -> 'X'
    expect(decodeAll(upper, opts)).toEqual([
      expect.objectContaining({
        type: 'HEADERS_REJECTED',
        streamId: 7,
        code: ReasonCode.PROTOCOL_ERROR,
        response: true,
      }),
    ]);
  });

  it('ignores unknown frame types', () => {
    const unknown = new Uint8Array([0x7f, 0xff, 0, 0, 0, 9, 0, 0, 0, 2, 1, 2]);
    expect(decodeAll(concat([unknown, encode({ type: 'END', streamId: 1 })]), opts)).toEqual([
      { type: 'END', streamId: 1 },
    ]);
  });

  it('encode refuses frames a peer would reject', () => {
    const bad: Frame[] = [
      { type: 'DATA', streamId: 0, data: new Uint8Array() },
      { type: 'END', streamId: MAX_INT31 + 1 },
      { type: 'WINDOW_UPDATE', streamId: 1, increment: 0 },
      { type: 'PING', data: new Uint8Array(7) },
      { type: 'HEADERS', streamId: 1, kind: 'request', method: 'G T', target: '/', headers: [] },
      { type: 'HEADERS', streamId: 1, kind: 'request', method: 'GET', target: 'x', headers: [] },
      {
        type: 'HEADERS',
        streamId: 1,
        kind: 'request',
        method: 'GET',
        target: '/',
        headers: [['X', '1']],
      },
      {
        type: 'HEADERS',
        streamId: 1,
        kind: 'request',
        method: 'GET',
        target: '/',
        headers: [['x', 'a\nb']],
      },
      { type: 'HEADERS', streamId: 1, kind: 'response', status: 101, headers: [] },
    ];
    for (const frame of bad)
      expect(() => encode(frame), JSON.stringify(frame)).toThrow(PeerHttpError);
  });
});
