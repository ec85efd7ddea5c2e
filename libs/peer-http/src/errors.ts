/**
 * Reason codes (PROTOCOL.md §9). Codes below 0x100 travel on the wire in RESET and GOAWAY;
 * codes from 0x100 are local only and describe failures the peer did not report.
 */
export const ReasonCode = {
  NO_ERROR: 0x0,
  PROTOCOL_ERROR: 0x1,
  INTERNAL_ERROR: 0x2,
  FLOW_CONTROL_ERROR: 0x3,
  STREAM_CLOSED: 0x4,
  FRAME_SIZE_ERROR: 0x5,
  REFUSED_STREAM: 0x6,
  CANCEL: 0x7,
  HEADER_TOO_LARGE: 0x8,
  VERSION_MISMATCH: 0x9,
  IDLE_TIMEOUT: 0xa,
  /** Local: the channel closed without GOAWAY, or while the stream was open. */
  CONNECTION_CLOSED: 0x100,
  /** Local: a request timed out. */
  TIMEOUT: 0x101,
} as const;

export type ReasonCodeName = keyof typeof ReasonCode;
export type ReasonCodeValue = (typeof ReasonCode)[ReasonCodeName];

const names = new Map<number, ReasonCodeName>(
  Object.entries(ReasonCode).map(([name, code]) => [code, name as ReasonCodeName]),
);

/** The name of a reason code; unknown codes read as INTERNAL_ERROR (PROTOCOL.md §9). */
export function reasonName(code: number): ReasonCodeName {
  return names.get(code) ?? 'INTERNAL_ERROR';
}

/** A protocol failure with its wire reason code. */
export class PeerHttpError extends Error {
  override readonly name = 'PeerHttpError';
  /** The reason code (PROTOCOL.md §9), as received or as sent. */
  readonly code: number;
  /** Whether the error concerns the whole connection (GOAWAY) or one stream (RESET). */
  readonly scope: 'connection' | 'stream';

  constructor(
    code: number,
    message: string,
    options: { scope?: 'connection' | 'stream'; cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.scope = options.scope ?? 'connection';
  }

  /** The code's name, e.g. `PROTOCOL_ERROR`. */
  get codeName(): ReasonCodeName {
    return reasonName(this.code);
  }
}

/** A connection-level protocol error (answered with GOAWAY). */
export function connectionError(code: number, message: string): PeerHttpError {
  return new PeerHttpError(code, message, { scope: 'connection' });
}

/** A stream-level protocol error (answered with RESET). */
export function streamError(code: number, message: string): PeerHttpError {
  return new PeerHttpError(code, message, { scope: 'stream' });
}
