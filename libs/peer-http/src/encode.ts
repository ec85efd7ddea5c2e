/**
 * Pure frame encoder (PROTOCOL.md §2–§5). Validates what it writes: an invalid frame throws
 * a {@link PeerHttpError} (PROTOCOL_ERROR, or HEADER_TOO_LARGE for a field over 65535 bytes)
 * instead of producing bytes a conforming peer would reject.
 */
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
  TARGET_RE,
  TOKEN_RE,
  type Frame,
  type HeaderList,
  type HeadersFrame,
} from './frame.js';

const utf8 = new TextEncoder();

function invalid(message: string, code: number = ReasonCode.PROTOCOL_ERROR): PeerHttpError {
  return new PeerHttpError(code, message, { scope: 'stream' });
}

function checkUint(name: string, value: number, max: number): void {
  if (!Number.isInteger(value) || value < 0 || value > max) {
    throw invalid(`${name} out of range: ${value}`);
  }
}

/** Writes an ASCII / ISO-8859-1 string (every char ≤ 0xFF, checked by the caller's regex) at `at`. */
function putLatin1(out: Uint8Array, at: number, text: string): void {
  for (let i = 0; i < text.length; i++) out[at + i] = text.charCodeAt(i);
}

function putU16(out: Uint8Array, at: number, value: number): void {
  out[at] = value >>> 8;
  out[at + 1] = value;
}

function fieldsSize(headers: HeaderList): number {
  let size = 2;
  for (const [name, value] of headers) size += 4 + name.length + value.length;
  return size;
}

/** Encodes the payload of a HEADERS frame (the header block, PROTOCOL.md §5.1). */
export function encodeHeaderBlock(frame: HeadersFrame): Uint8Array {
  for (const [name, value] of frame.headers) {
    if (!HEADER_NAME_RE.test(name)) throw invalid(`invalid header name: ${JSON.stringify(name)}`);
    if (!HEADER_VALUE_RE.test(value)) throw invalid(`invalid value for header ${name}`);
    if (name.length > 0xffff || value.length > 0xffff) {
      throw invalid(`header ${name} is longer than 65535 bytes`, ReasonCode.HEADER_TOO_LARGE);
    }
  }
  if (frame.headers.length > 0xffff) {
    throw invalid('more than 65535 header fields', ReasonCode.HEADER_TOO_LARGE);
  }
  let out: Uint8Array;
  let offset: number;
  if (frame.kind === 'request') {
    if (!TOKEN_RE.test(frame.method) || frame.method.length > 255) {
      throw invalid(`invalid method: ${JSON.stringify(frame.method)}`);
    }
    if (!TARGET_RE.test(frame.target)) throw invalid(`invalid request target: ${frame.target}`);
    if (frame.target.length > 0xffff) {
      throw invalid('request target is longer than 65535 bytes', ReasonCode.HEADER_TOO_LARGE);
    }
    out = new Uint8Array(
      1 + frame.method.length + 2 + frame.target.length + fieldsSize(frame.headers),
    );
    out[0] = frame.method.length;
    putLatin1(out, 1, frame.method);
    offset = 1 + frame.method.length;
    putU16(out, offset, frame.target.length);
    putLatin1(out, offset + 2, frame.target);
    offset += 2 + frame.target.length;
  } else {
    if (!Number.isInteger(frame.status) || frame.status < 200 || frame.status > 599) {
      throw invalid(`invalid status: ${frame.status}`);
    }
    out = new Uint8Array(2 + fieldsSize(frame.headers));
    putU16(out, 0, frame.status);
    offset = 2;
  }
  putU16(out, offset, frame.headers.length);
  offset += 2;
  for (const [name, value] of frame.headers) {
    putU16(out, offset, name.length);
    putLatin1(out, offset + 2, name);
    offset += 2 + name.length;
    putU16(out, offset, value.length);
    putLatin1(out, offset + 2, value);
    offset += 2 + value.length;
  }
  return out;
}

/** Writes `value` as a big-endian uint32 at `at` (no DataView: one is not free per frame). */
function putU32(out: Uint8Array, at: number, value: number): void {
  out[at] = value >>> 24;
  out[at + 1] = value >>> 16;
  out[at + 2] = value >>> 8;
  out[at + 3] = value;
}

function frameBytes(
  type: number,
  flags: number,
  streamId: number,
  payload: Uint8Array,
): Uint8Array {
  const out = new Uint8Array(FRAME_HEADER_SIZE + payload.length);
  out[0] = type;
  out[1] = flags;
  putU32(out, 2, streamId);
  putU32(out, 6, payload.length);
  if (payload.length > 0) out.set(payload, FRAME_HEADER_SIZE);
  return out;
}

/**
 * Writes a DATA frame into `out` (at least 10 + data.length bytes) and returns the frame's
 * bytes, a view of `out`: for a sender that reuses one buffer for bulk frames because its
 * transport copies each message on send.
 */
export function encodeDataInto(out: Uint8Array, streamId: number, data: Uint8Array): Uint8Array {
  const size = FRAME_HEADER_SIZE + data.length;
  if (out.length < size) throw new RangeError(`DATA frame of ${size} bytes does not fit`);
  out[0] = FrameType.DATA;
  out[1] = 0;
  putU32(out, 2, streamIdOf({ streamId }));
  putU32(out, 6, data.length);
  out.set(data, FRAME_HEADER_SIZE);
  return out.subarray(0, size);
}

const EMPTY = new Uint8Array(0);

function u32(value: number): Uint8Array {
  const out = new Uint8Array(4);
  putU32(out, 0, value);
  return out;
}

function streamIdOf(frame: { streamId: number }, allowZero = false): number {
  checkUint('stream id', frame.streamId, MAX_INT31);
  if (!allowZero && frame.streamId === 0) throw invalid('stream id 0 is not allowed here');
  return frame.streamId;
}

function eight(name: string, data: Uint8Array): Uint8Array {
  if (data.length !== 8) throw invalid(`${name} payload must be 8 bytes`);
  return data;
}

/**
 * Encodes a HEADERS frame around a header block already made by {@link encodeHeaderBlock}
 * for the same frame (a sender that had to measure the block need not encode it twice).
 */
export function encodeHeaders(frame: HeadersFrame, block: Uint8Array): Uint8Array {
  return frameBytes(
    FrameType.HEADERS,
    frame.kind === 'response' ? FLAG_RESPONSE : 0,
    streamIdOf(frame),
    block,
  );
}

/**
 * Encodes a whole small message of one stream into one buffer: HEADERS (around a block from
 * {@link encodeHeaderBlock}), DATA with `body` unless it is empty, END. The bytes are those
 * of the three frames encoded one by one; a sender that has the whole body at once saves
 * the separate buffers and their copy into one message.
 */
export function encodeWhole(frame: HeadersFrame, block: Uint8Array, body: Uint8Array): Uint8Array {
  const streamId = streamIdOf(frame);
  const dataSize = body.length > 0 ? FRAME_HEADER_SIZE + body.length : 0;
  const out = new Uint8Array(2 * FRAME_HEADER_SIZE + block.length + dataSize);
  out[0] = FrameType.HEADERS;
  out[1] = frame.kind === 'response' ? FLAG_RESPONSE : 0;
  putU32(out, 2, streamId);
  putU32(out, 6, block.length);
  out.set(block, FRAME_HEADER_SIZE);
  let at = FRAME_HEADER_SIZE + block.length;
  if (dataSize > 0) {
    out[at] = FrameType.DATA; // flags 0
    putU32(out, at + 2, streamId);
    putU32(out, at + 6, body.length);
    out.set(body, at + FRAME_HEADER_SIZE);
    at += dataSize;
  }
  out[at] = FrameType.END; // flags 0, length 0
  putU32(out, at + 2, streamId);
  return out;
}

/** Encodes one frame: 10-byte header + payload. */
export function encode(frame: Frame): Uint8Array {
  switch (frame.type) {
    case 'HELLO': {
      const payload = new Uint8Array(HELLO_SIZE);
      const view = new DataView(payload.buffer);
      payload.set(HELLO_MAGIC, 0);
      checkUint('version', frame.version, 0xffff);
      view.setUint16(4, frame.version);
      if (frame.tiebreaker.length !== 8) throw invalid('tiebreaker must be 8 bytes');
      payload.set(frame.tiebreaker, 8);
      const limits = [
        frame.maxFrameSize,
        frame.maxHeaderBytes,
        frame.maxConcurrentStreams,
        frame.initialStreamWindow,
        frame.initialConnectionWindow,
      ];
      limits.forEach((value, i) => {
        checkUint('HELLO limit', value, 0xffffffff);
        view.setUint32(16 + 4 * i, value);
      });
      return frameBytes(FrameType.HELLO, 0, 0, payload);
    }
    case 'HEADERS':
      return frameBytes(
        FrameType.HEADERS,
        frame.kind === 'response' ? FLAG_RESPONSE : 0,
        streamIdOf(frame),
        encodeHeaderBlock(frame),
      );
    case 'DATA':
      return frameBytes(FrameType.DATA, 0, streamIdOf(frame), frame.data);
    case 'END':
      return frameBytes(FrameType.END, 0, streamIdOf(frame), EMPTY);
    case 'RESET':
      checkUint('reason code', frame.code, 0xffffffff);
      return frameBytes(FrameType.RESET, 0, streamIdOf(frame), u32(frame.code));
    case 'WINDOW_UPDATE':
      if (
        !Number.isInteger(frame.increment) ||
        frame.increment < 1 ||
        frame.increment > MAX_INT31
      ) {
        throw invalid(`WINDOW_UPDATE increment out of range: ${frame.increment}`);
      }
      return frameBytes(FrameType.WINDOW_UPDATE, 0, streamIdOf(frame, true), u32(frame.increment));
    case 'PING':
      return frameBytes(FrameType.PING, 0, 0, eight('PING', frame.data));
    case 'PONG':
      return frameBytes(FrameType.PONG, 0, 0, eight('PONG', frame.data));
    case 'GOAWAY': {
      checkUint('lastStreamId', frame.lastStreamId, MAX_INT31);
      checkUint('reason code', frame.code, 0xffffffff);
      const message = utf8.encode(frame.message);
      const payload = new Uint8Array(8 + message.length);
      const view = new DataView(payload.buffer);
      view.setUint32(0, frame.lastStreamId);
      view.setUint32(4, frame.code);
      payload.set(message, 8);
      return frameBytes(FrameType.GOAWAY, 0, 0, payload);
    }
  }
}
