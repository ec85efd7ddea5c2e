/**
 * Buffering frame decoder (PROTOCOL.md §2–§5). Input is a byte stream cut anywhere: a
 * frame may span pushes and one push may hold many frames. Memory is bounded: a frame
 * header announcing more than `maxFrameSize` bytes is rejected before its payload is
 * buffered, so at most one partial frame (≤ 10 + maxFrameSize bytes) is held across pushes.
 *
 * Every malformed input ends in a {@link PeerHttpError} (a connection error); after one,
 * the decoder is spent and rethrows it. A malformed or oversized header block is a stream
 * error only and is yielded as a `HEADERS_REJECTED` frame.
 */
import { LIMITS } from './config.js';
import { PeerHttpError, ReasonCode } from './errors.js';
import {
  FLAG_RESPONSE,
  FRAME_HEADER_SIZE,
  FrameType,
  HEADER_NAME_RE,
  HEADER_VALUE_RE,
  HELLO_MAGIC,
  HELLO_SIZE,
  MAX_INT31,
  PROTOCOL_VERSION,
  TARGET_RE,
  TOKEN_RE,
  type DecodedFrame,
  type HeaderList,
  type HeadersFrame,
  type HelloFrame,
} from './frame.js';

export interface DecoderOptions {
  /** Largest payload accepted (what this side advertised in HELLO). */
  maxFrameSize: number;
  /** HEADERS payloads above this are yielded as HEADERS_REJECTED / HEADER_TOO_LARGE. */
  maxHeaderBytes?: number;
}

interface PendingHeader {
  type: number;
  flags: number;
  streamId: number;
  length: number;
}

const utf8 = new TextDecoder('utf-8');
const EMPTY = new Uint8Array(0);

/** Big-endian reads (no DataView per frame: each one is an allocation). */
function u16(bytes: Uint8Array, at: number): number {
  return (bytes[at]! << 8) | bytes[at + 1]!;
}

function u32(bytes: Uint8Array, at: number): number {
  return (
    ((bytes[at]! << 24) | (bytes[at + 1]! << 16) | (bytes[at + 2]! << 8) | bytes[at + 3]!) >>> 0
  );
}

function fail(code: number, message: string): PeerHttpError {
  return new PeerHttpError(code, message, { scope: 'connection' });
}

/** Frame types whose stream id must be 0, and those whose id must not be. */
const CONNECTION_TYPES = new Set<number>([
  FrameType.HELLO,
  FrameType.PING,
  FrameType.PONG,
  FrameType.GOAWAY,
]);
const STREAM_TYPES = new Set<number>([
  FrameType.HEADERS,
  FrameType.DATA,
  FrameType.END,
  FrameType.RESET,
]);
const TYPE_NAMES = new Map<number, string>(Object.entries(FrameType).map(([k, v]) => [v, k]));

/** Exact payload length per type (-n: at least n). */
const PAYLOAD_LENGTH = new Map<number, number>([
  [FrameType.HELLO, -HELLO_SIZE],
  [FrameType.END, 0],
  [FrameType.RESET, 4],
  [FrameType.WINDOW_UPDATE, 4],
  [FrameType.PING, 8],
  [FrameType.PONG, 8],
  [FrameType.GOAWAY, -8],
]);

export class Decoder {
  private chunks: Uint8Array[] = [];
  /** Where the unread bytes of `chunks[0]` start. */
  private offset = 0;
  /** Unread bytes in `chunks` (from `offset` on). */
  private buffered = 0;
  private header: PendingHeader | undefined;
  private error: PeerHttpError | undefined;
  maxFrameSize: number;
  maxHeaderBytes: number;

  constructor(options: DecoderOptions) {
    this.maxFrameSize = options.maxFrameSize;
    this.maxHeaderBytes = options.maxHeaderBytes ?? options.maxFrameSize;
  }

  /** Bytes held for an incomplete frame. */
  get bufferedBytes(): number {
    return this.buffered + (this.header ? FRAME_HEADER_SIZE : 0);
  }

  /**
   * Adds bytes and yields every frame they complete, in order. Throws a PeerHttpError at
   * the first malformed frame (after yielding the frames before it).
   */
  *push(chunk: Uint8Array): Generator<DecodedFrame, void, undefined> {
    this.write(chunk);
    for (let frame = this.next(); frame; frame = this.next()) yield frame;
  }

  /** Adds bytes; {@link next} then returns the frames they complete (no generator). */
  write(chunk: Uint8Array): void {
    if (this.error) throw this.error;
    if (chunk.length > 0) {
      this.chunks.push(chunk);
      this.buffered += chunk.length;
    }
  }

  /**
   * The next complete frame, or `undefined` until more bytes are written. Throws a
   * PeerHttpError at a malformed frame; the decoder is spent after it.
   */
  next(): DecodedFrame | undefined {
    if (this.error) throw this.error;
    try {
      for (;;) {
        if (!this.header) {
          if (this.buffered < FRAME_HEADER_SIZE) return undefined;
          const first = this.chunks[0]!;
          if (first.length - this.offset >= FRAME_HEADER_SIZE) {
            // the usual case: read the header in place
            this.header = this.readHeader(first, this.offset);
            this.skip(FRAME_HEADER_SIZE);
          } else {
            this.header = this.readHeader(this.take(FRAME_HEADER_SIZE), 0);
          }
        }
        const header = this.header;
        if (this.buffered < header.length) return undefined;
        const payload = this.take(header.length);
        this.header = undefined;
        const frame = this.parse(header, payload);
        if (frame) return frame;
      }
    } catch (error) {
      // Anything but a PeerHttpError is a bug in this file: it is passed on unchanged (and
      // the property tests and the fuzz script report it), but the decoder is spent either way.
      this.error =
        error instanceof PeerHttpError
          ? error
          : new PeerHttpError(ReasonCode.INTERNAL_ERROR, 'decoder failure', { cause: error });
      this.chunks = [];
      this.offset = 0;
      this.buffered = 0;
      this.header = undefined;
      throw error;
    }
  }

  /** Drops `n` bytes of the first chunk (which holds at least that many unread). */
  private skip(n: number): void {
    this.buffered -= n;
    this.offset += n;
    if (this.offset === this.chunks[0]!.length) {
      this.chunks.shift();
      this.offset = 0;
    }
  }

  /** The next `n` buffered bytes (a view when they lie in one chunk, else a copy). */
  private take(n: number): Uint8Array {
    if (n === 0) return EMPTY;
    const first = this.chunks[0]!;
    if (first.length - this.offset >= n) {
      const out = first.subarray(this.offset, this.offset + n);
      this.skip(n);
      return out;
    }
    const out = new Uint8Array(n);
    let filled = 0;
    while (filled < n) {
      const chunk = this.chunks[0]!;
      const count = Math.min(chunk.length - this.offset, n - filled);
      out.set(chunk.subarray(this.offset, this.offset + count), filled);
      filled += count;
      this.skip(count);
    }
    return out;
  }

  private readHeader(bytes: Uint8Array, at: number): PendingHeader {
    const type = bytes[at]!;
    const flags = bytes[at + 1]!;
    const rawId = u32(bytes, at + 2);
    const length = u32(bytes, at + 6);
    const name = TYPE_NAMES.get(type) ?? `type 0x${type.toString(16)}`;
    if (rawId > MAX_INT31)
      throw fail(ReasonCode.PROTOCOL_ERROR, `${name} frame with the reserved stream-id bit set`);
    if (CONNECTION_TYPES.has(type) && rawId !== 0) {
      throw fail(ReasonCode.PROTOCOL_ERROR, `${name} frame on stream ${rawId} (must be 0)`);
    }
    if (STREAM_TYPES.has(type) && rawId === 0) {
      throw fail(ReasonCode.PROTOCOL_ERROR, `${name} frame on stream 0`);
    }
    const expected = PAYLOAD_LENGTH.get(type);
    if (expected !== undefined && (expected >= 0 ? length !== expected : length < -expected)) {
      throw fail(ReasonCode.FRAME_SIZE_ERROR, `${name} frame with a ${length}-byte payload`);
    }
    if (length > this.maxFrameSize) {
      throw fail(
        ReasonCode.FRAME_SIZE_ERROR,
        `${name} frame of ${length} bytes exceeds the maximum frame size ${this.maxFrameSize}`,
      );
    }
    return { type, flags, streamId: rawId, length };
  }

  private parse(header: PendingHeader, payload: Uint8Array): DecodedFrame | undefined {
    const { streamId } = header;
    switch (header.type) {
      case FrameType.HELLO:
        return parseHello(payload);
      case FrameType.HEADERS: {
        const response = (header.flags & FLAG_RESPONSE) !== 0;
        if (payload.length > this.maxHeaderBytes) {
          return {
            type: 'HEADERS_REJECTED',
            streamId,
            response,
            code: ReasonCode.HEADER_TOO_LARGE,
            reason: `header block of ${payload.length} bytes exceeds ${this.maxHeaderBytes}`,
            size: payload.length,
          };
        }
        try {
          return parseHeaderBlock(streamId, response, payload);
        } catch (error) {
          return {
            type: 'HEADERS_REJECTED',
            streamId,
            response,
            code: ReasonCode.PROTOCOL_ERROR,
            reason: error instanceof Error ? error.message : 'malformed header block',
            size: payload.length,
          };
        }
      }
      case FrameType.DATA:
        return { type: 'DATA', streamId, data: payload };
      case FrameType.END:
        return { type: 'END', streamId };
      case FrameType.RESET:
        return { type: 'RESET', streamId, code: u32(payload, 0) };
      case FrameType.WINDOW_UPDATE: {
        const increment = u32(payload, 0);
        if (increment === 0 || increment > MAX_INT31) {
          throw fail(
            ReasonCode.PROTOCOL_ERROR,
            `WINDOW_UPDATE increment ${increment} out of range`,
          );
        }
        return { type: 'WINDOW_UPDATE', streamId, increment };
      }
      case FrameType.PING:
        return { type: 'PING', data: payload.slice() };
      case FrameType.PONG:
        return { type: 'PONG', data: payload.slice() };
      case FrameType.GOAWAY: {
        const lastStreamId = u32(payload, 0);
        if (lastStreamId > MAX_INT31)
          throw fail(ReasonCode.PROTOCOL_ERROR, 'GOAWAY lastStreamId out of range');
        return {
          type: 'GOAWAY',
          lastStreamId,
          code: u32(payload, 4),
          message: utf8.decode(payload.subarray(8)),
        };
      }
      default:
        return undefined; // unknown frame types are ignored (PROTOCOL.md §3)
    }
  }
}

function parseHello(payload: Uint8Array): HelloFrame {
  for (let i = 0; i < HELLO_MAGIC.length; i++) {
    if (payload[i] !== HELLO_MAGIC[i])
      throw fail(
        ReasonCode.PROTOCOL_ERROR,
        'HELLO magic mismatch: the peer does not speak peer-http',
      );
  }
  const version = u16(payload, 4);
  if (version !== PROTOCOL_VERSION) {
    throw fail(
      ReasonCode.VERSION_MISMATCH,
      `peer-http version ${version} is not supported; this peer speaks version ${PROTOCOL_VERSION}`,
    );
  }
  const hello: HelloFrame = {
    type: 'HELLO',
    version,
    tiebreaker: payload.slice(8, 16),
    maxFrameSize: u32(payload, 16),
    maxHeaderBytes: u32(payload, 20),
    maxConcurrentStreams: u32(payload, 24),
    initialStreamWindow: u32(payload, 28),
    initialConnectionWindow: u32(payload, 32),
  };
  for (const [name, [min, max]] of Object.entries(LIMITS)) {
    const value = hello[name as keyof typeof LIMITS];
    if (value < min || value > max) {
      throw fail(ReasonCode.PROTOCOL_ERROR, `HELLO ${name} ${value} out of range [${min}, ${max}]`);
    }
  }
  if (hello.maxHeaderBytes > hello.maxFrameSize) {
    throw fail(ReasonCode.PROTOCOL_ERROR, 'HELLO maxHeaderBytes exceeds maxFrameSize');
  }
  return hello;
}

/** ISO-8859-1 bytes `[from, to)` of `bytes` as a string. */
function latin1(bytes: Uint8Array, from: number, to: number): string {
  if (to - from <= 64) {
    // short fields (nearly all): no subarray, no argument list
    let out = '';
    for (let i = from; i < to; i++) out += String.fromCharCode(bytes[i]!);
    return out;
  }
  let out = '';
  for (let i = from; i < to; i += 4096) {
    out += String.fromCharCode(...bytes.subarray(i, Math.min(i + 4096, to)));
  }
  return out;
}

/** A read position in a header block (one object per block, not a closure per helper). */
class BlockReader {
  offset = 0;
  constructor(readonly payload: Uint8Array) {}

  need(n: number): void {
    if (this.offset + n > this.payload.length) throw new Error('header block truncated');
  }

  u8(): number {
    this.need(1);
    return this.payload[this.offset++]!;
  }

  u16(): number {
    this.need(2);
    const value = u16(this.payload, this.offset);
    this.offset += 2;
    return value;
  }

  string(n: number): string {
    this.need(n);
    const value = latin1(this.payload, this.offset, this.offset + n);
    this.offset += n;
    return value;
  }

  fields(): HeaderList {
    const count = this.u16();
    const headers: HeaderList = [];
    for (let i = 0; i < count; i++) {
      const name = this.string(this.u16());
      if (!HEADER_NAME_RE.test(name))
        throw new Error(`invalid header name ${JSON.stringify(name)}`);
      const value = this.string(this.u16());
      if (!HEADER_VALUE_RE.test(value)) throw new Error(`invalid value for header ${name}`);
      headers.push([name, value]);
    }
    if (this.offset !== this.payload.length) {
      throw new Error('trailing bytes after the header block');
    }
    return headers;
  }
}

function parseHeaderBlock(streamId: number, response: boolean, payload: Uint8Array): HeadersFrame {
  const reader = new BlockReader(payload);
  if (response) {
    const status = reader.u16();
    if (status < 200 || status > 599) throw new Error(`invalid status ${status}`);
    return { type: 'HEADERS', streamId, kind: 'response', status, headers: reader.fields() };
  }
  const method = reader.string(reader.u8());
  if (!TOKEN_RE.test(method)) throw new Error(`invalid method ${JSON.stringify(method)}`);
  const target = reader.string(reader.u16());
  if (!TARGET_RE.test(target)) throw new Error(`invalid request target ${JSON.stringify(target)}`);
  return { type: 'HEADERS', streamId, kind: 'request', method, target, headers: reader.fields() };
}

/**
 * Decodes bytes that must hold whole frames only (a test and tooling helper). Throws a
 * PeerHttpError on malformed input or a trailing partial frame.
 */
export function decodeAll(bytes: Uint8Array, options: DecoderOptions): DecodedFrame[] {
  const decoder = new Decoder(options);
  const frames = [...decoder.push(bytes)];
  if (decoder.bufferedBytes > 0) {
    throw fail(
      ReasonCode.FRAME_SIZE_ERROR,
      `truncated frame: ${decoder.bufferedBytes} bytes left over`,
    );
  }
  return frames;
}
