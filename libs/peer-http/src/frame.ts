/**
 * Frame model (PROTOCOL.md §2–§5). Pure data: no I/O, `Uint8Array` only.
 */

/** Protocol version spoken by this implementation (HELLO `version`). */
export const PROTOCOL_VERSION = 1;

/** HELLO magic, "PFHP". */
export const HELLO_MAGIC = new Uint8Array([0x50, 0x46, 0x48, 0x50]);

/** Frame header size in bytes: type (1), flags (1), stream id (4), length (4). */
export const FRAME_HEADER_SIZE = 10;

/** Fixed part of a HELLO payload; bytes after it are extensions and ignored. */
export const HELLO_SIZE = 36;

/** Largest stream id, window and WINDOW_UPDATE increment: 2^31 - 1. */
export const MAX_INT31 = 0x7fffffff;

/** Wire numbers of the frame types (PROTOCOL.md §3). */
export const FrameType = {
  HELLO: 0x00,
  HEADERS: 0x01,
  DATA: 0x02,
  END: 0x03,
  RESET: 0x04,
  WINDOW_UPDATE: 0x05,
  PING: 0x06,
  PONG: 0x07,
  GOAWAY: 0x08,
} as const;

export type FrameTypeName = keyof typeof FrameType;

/** HEADERS flag: the block is a response (status + fields) rather than a request. */
export const FLAG_RESPONSE = 0x01;

/** Header fields in wire order; names are lowercase. */
export type HeaderList = Array<[name: string, value: string]>;

export interface HelloFrame {
  type: 'HELLO';
  version: number;
  /** 8 random bytes; the greater one opens odd stream ids (PROTOCOL.md §6.1). */
  tiebreaker: Uint8Array;
  maxFrameSize: number;
  maxHeaderBytes: number;
  maxConcurrentStreams: number;
  initialStreamWindow: number;
  initialConnectionWindow: number;
}

export interface RequestHeadersFrame {
  type: 'HEADERS';
  streamId: number;
  kind: 'request';
  method: string;
  target: string;
  headers: HeaderList;
}

export interface ResponseHeadersFrame {
  type: 'HEADERS';
  streamId: number;
  kind: 'response';
  status: number;
  headers: HeaderList;
}

export type HeadersFrame = RequestHeadersFrame | ResponseHeadersFrame;

export interface DataFrame {
  type: 'DATA';
  streamId: number;
  data: Uint8Array;
}

export interface EndFrame {
  type: 'END';
  streamId: number;
}

export interface ResetFrame {
  type: 'RESET';
  streamId: number;
  code: number;
}

export interface WindowUpdateFrame {
  type: 'WINDOW_UPDATE';
  /** 0 for the connection window. */
  streamId: number;
  increment: number;
}

export interface PingFrame {
  type: 'PING';
  /** 8 opaque bytes. */
  data: Uint8Array;
}

export interface PongFrame {
  type: 'PONG';
  data: Uint8Array;
}

export interface GoAwayFrame {
  type: 'GOAWAY';
  lastStreamId: number;
  code: number;
  message: string;
}

/**
 * A HEADERS frame whose frame is well-formed but whose block the receiver will not use:
 * malformed (code PROTOCOL_ERROR, a stream error, PROTOCOL.md §5.1) or larger than the
 * decoder's `maxHeaderBytes` (code HEADER_TOO_LARGE, not parsed at all, §5.2).
 */
export interface RejectedHeadersFrame {
  type: 'HEADERS_REJECTED';
  streamId: number;
  response: boolean;
  code: number;
  reason: string;
  /** Payload length in bytes. */
  size: number;
}

export type Frame =
  | HelloFrame
  | HeadersFrame
  | DataFrame
  | EndFrame
  | ResetFrame
  | WindowUpdateFrame
  | PingFrame
  | PongFrame
  | GoAwayFrame;

/** What the decoder yields: a frame, or a HEADERS frame it rejected. */
export type DecodedFrame = Frame | RejectedHeadersFrame;

/** RFC 9110 token characters. */
export const TOKEN_RE = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/** Header names: lowercase tokens. */
export const HEADER_NAME_RE = /^[!#$%&'*+\-.^_`|~0-9a-z]+$/;
/** Header values: bytes 0x09, 0x20-0x7E, 0x80-0xFF (no NUL, CR, LF). */
export const HEADER_VALUE_RE = /^[\t\x20-\x7e\x80-\xff]*$/;
/** Request targets: origin-form, visible ASCII, starting with "/". */
export const TARGET_RE = /^\/[\x21-\x7e]*$/;
