/**
 * Writes conformance/vectors.json: named frames (hex + decoded meaning) and invalid inputs
 * with the reason code a conforming decoder must report. Run:
 *   npx tsx libs/peer-http/conformance/generate.ts
 * test/conformance.spec.ts checks this implementation against the committed file.
 */
import { writeFileSync } from 'node:fs';
import { encode } from '../src/encode.js';
import { ReasonCode, reasonName } from '../src/errors.js';
import type { Frame } from '../src/frame.js';

const hex = (bytes: Uint8Array): string =>
  Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);

/** JSON form of a frame: byte fields as lowercase hex strings. */
function toJson(frame: Frame): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(frame).map(([key, value]) => [
      key,
      value instanceof Uint8Array ? hex(value) : value,
    ]),
  );
}

const hello: Frame = {
  type: 'HELLO',
  version: 1,
  tiebreaker: new Uint8Array([0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef]),
  maxFrameSize: 65536,
  maxHeaderBytes: 16384,
  maxConcurrentStreams: 100,
  initialStreamWindow: 1048576,
  initialConnectionWindow: 16777216,
};

const valid: Array<[string, string, Frame]> = [
  ['hello', 'HELLO with the default limits', hello],
  [
    'headers-request-get',
    'GET /api/info?x=1 with two header fields on stream 1',
    {
      type: 'HEADERS',
      streamId: 1,
      kind: 'request',
      method: 'GET',
      target: '/api/info?x=1',
      headers: [
        ['accept', 'application/json'],
        ['range', 'bytes=0-99'],
      ],
    },
  ],
  [
    'headers-request-post-empty',
    'POST / with no header fields on stream 2',
    { type: 'HEADERS', streamId: 2, kind: 'request', method: 'POST', target: '/', headers: [] },
  ],
  [
    'headers-response-206',
    'response 206 with a repeated field name and an ISO-8859-1 value byte 0xe9',
    {
      type: 'HEADERS',
      streamId: 1,
      kind: 'response',
      status: 206,
      headers: [
        ['content-range', 'bytes 0-99/1000'],
        ['x-note', 'caf\u00e9'],
        ['x-note', ''],
      ],
    },
  ],
  ['data', 'DATA "hello" on stream 1', { type: 'DATA', streamId: 1, data: bytes('hello') }],
  ['data-empty', 'empty DATA on stream 3', { type: 'DATA', streamId: 3, data: new Uint8Array(0) }],
  ['end', 'END (half-close) on stream 1', { type: 'END', streamId: 1 }],
  [
    'reset-cancel',
    'RESET CANCEL on stream 5',
    { type: 'RESET', streamId: 5, code: ReasonCode.CANCEL },
  ],
  [
    'reset-unknown-code',
    'RESET with an unknown code (treated as INTERNAL_ERROR by the application)',
    { type: 'RESET', streamId: 2, code: 0xdeadbeef },
  ],
  [
    'window-update-connection',
    'WINDOW_UPDATE of 65536 for the connection',
    { type: 'WINDOW_UPDATE', streamId: 0, increment: 65536 },
  ],
  [
    'window-update-stream-max',
    'WINDOW_UPDATE of 2^31-1 for stream 7',
    { type: 'WINDOW_UPDATE', streamId: 7, increment: 0x7fffffff },
  ],
  [
    'ping',
    'PING with 8 opaque bytes',
    { type: 'PING', data: new Uint8Array([0, 1, 2, 3, 4, 5, 6, 7]) },
  ],
  [
    'pong',
    'PONG answering that PING',
    { type: 'PONG', data: new Uint8Array([0, 1, 2, 3, 4, 5, 6, 7]) },
  ],
  [
    'goaway-version',
    'GOAWAY VERSION_MISMATCH with its message',
    {
      type: 'GOAWAY',
      lastStreamId: 0,
      code: ReasonCode.VERSION_MISMATCH,
      message: 'peer-http version 2 is not supported; this peer speaks version 1',
    },
  ],
  [
    'goaway-utf8',
    'GOAWAY NO_ERROR, lastStreamId 9, UTF-8 message',
    { type: 'GOAWAY', lastStreamId: 9, code: ReasonCode.NO_ERROR, message: 'au revoir ✓' },
  ],
];

const helloHex = hex(encode(hello));
/** Replaces payload bytes of the encoded HELLO at `offset` (payload-relative). */
function patchHello(offset: number, replacement: string): string {
  const at = (10 + offset) * 2;
  return helloHex.slice(0, at) + replacement + helloHex.slice(at + replacement.length);
}

const invalid: Array<[string, string, string, keyof typeof ReasonCode]> = [
  ['reserved-bit', 'stream id with the reserved bit set', '02008000000100000000', 'PROTOCOL_ERROR'],
  ['data-stream-0', 'DATA on stream 0', '02000000000000000000', 'PROTOCOL_ERROR'],
  [
    'ping-on-stream',
    'PING on stream 1',
    '0600000000010000000800000000000000000000',
    'PROTOCOL_ERROR',
  ],
  ['end-with-payload', 'END with a 1-byte payload', '0300000000010000000100', 'FRAME_SIZE_ERROR'],
  ['reset-short', 'RESET with a 3-byte payload', '040000000001000000030000', 'FRAME_SIZE_ERROR'],
  ['ping-short', 'PING with a 4-byte payload', '060000000000000000040000', 'FRAME_SIZE_ERROR'],
  [
    'hello-short',
    'HELLO with a 35-byte payload',
    '0000000000000000002350464850',
    'FRAME_SIZE_ERROR',
  ],
  [
    'frame-too-large',
    'DATA announcing 65537 bytes with maxFrameSize 65536 (rejected from the header alone)',
    '02000000000100010001',
    'FRAME_SIZE_ERROR',
  ],
  [
    'window-update-zero',
    'WINDOW_UPDATE increment 0',
    '05000000000100000004' + '00000000',
    'PROTOCOL_ERROR',
  ],
  [
    'window-update-too-big',
    'WINDOW_UPDATE increment 2^31',
    '05000000000100000004' + '80000000',
    'PROTOCOL_ERROR',
  ],
  [
    'goaway-bad-last-id',
    'GOAWAY lastStreamId with the top bit set',
    '08000000000000000008' + '80000000' + '00000000',
    'PROTOCOL_ERROR',
  ],
  [
    'hello-bad-magic',
    'HELLO whose magic is not "PFHP"',
    patchHello(0, '50464858'),
    'PROTOCOL_ERROR',
  ],
  [
    'hello-version-2',
    'HELLO version 2: must be refused, not parsed',
    patchHello(4, '0002'),
    'VERSION_MISMATCH',
  ],
  [
    'hello-small-frame-size',
    'HELLO maxFrameSize 1024 (below 16384)',
    patchHello(16, '00000400'),
    'PROTOCOL_ERROR',
  ],
  [
    'hello-header-bytes-over-frame',
    'HELLO maxHeaderBytes 65537 > maxFrameSize 65536',
    patchHello(20, '00010001'),
    'PROTOCOL_ERROR',
  ],
  [
    'hello-zero-streams',
    'HELLO maxConcurrentStreams 0',
    patchHello(24, '00000000'),
    'PROTOCOL_ERROR',
  ],
];

/** HEADERS frames that are well-formed as frames but whose block is rejected (a stream error). */
/** A frame as hex from its parts (payload given as hex; the length is computed). */
function frameHex(type: number, flags: number, streamId: number, payloadHex: string): string {
  const header = new Uint8Array(10);
  const view = new DataView(header.buffer);
  view.setUint8(0, type);
  view.setUint8(1, flags);
  view.setUint32(2, streamId);
  view.setUint32(6, payloadHex.length / 2);
  return hex(header) + payloadHex;
}

/** HEADERS frames that are well-formed as frames but whose block is rejected (a stream error). */
const rejectedHeaders: Array<[string, string, string, keyof typeof ReasonCode]> = [
  // request block: u8 method length, method, u16 target length, target, u16 count, fields
  [
    'headers-uppercase-name',
    'field name "X" is not lowercase',
    frameHex(1, 0, 1, '0147' + '00012f' + '0001' + '000158' + '0000'),
    'PROTOCOL_ERROR',
  ],
  [
    'headers-truncated',
    'field count 1 but no field follows',
    frameHex(1, 0, 1, '0147' + '00012f' + '0001'),
    'PROTOCOL_ERROR',
  ],
  [
    'headers-trailing-bytes',
    'one byte after the last field',
    frameHex(1, 0, 1, '0147' + '00012f' + '0000' + '00'),
    'PROTOCOL_ERROR',
  ],
  [
    'headers-target-not-origin-form',
    'target "x" does not start with "/"',
    frameHex(1, 0, 1, '0147' + '000178' + '0000'),
    'PROTOCOL_ERROR',
  ],
  [
    'headers-empty-method',
    'method of length 0',
    frameHex(1, 0, 1, '00' + '00012f' + '0000'),
    'PROTOCOL_ERROR',
  ],
  [
    'headers-value-newline',
    'field value contains LF',
    frameHex(1, 0, 1, '0147' + '00012f' + '0001' + '000178' + '00010a'),
    'PROTOCOL_ERROR',
  ],
  [
    'headers-status-101',
    'response (flag 0x01) with status 101',
    frameHex(1, 1, 1, '0065' + '0000'),
    'PROTOCOL_ERROR',
  ],
  [
    'headers-over-limit',
    'request header block of 16385 bytes (maxHeaderBytes 16384): answered with 431',
    frameHex(1, 0, 1, '0347455400012f0001' + '0001' + '78' + '3ff3' + '61'.repeat(0x3ff3)),
    'HEADER_TOO_LARGE',
  ],
];

const out = {
  description:
    'peer-http version 1 conformance vectors (see PROTOCOL.md). "valid": each hex string is exactly one frame; ' +
    'encoding "frame" must give "hex" and decoding "hex" must give "frame". Byte fields (tiebreaker, data) ' +
    'are hex strings. "invalid": decoding "hex" must fail with the connection error "code". ' +
    '"rejectedHeaders": decoding must reject the header block as a stream error "code" ' +
    '(reset the stream, keep the connection). Decoder limits: maxFrameSize 65536, maxHeaderBytes 16384.',
  protocolVersion: 1,
  decoderLimits: { maxFrameSize: 65536, maxHeaderBytes: 16384 },
  valid: valid.map(([name, description, frame]) => ({
    name,
    description,
    hex: hex(encode(frame)),
    frame: toJson(frame),
  })),
  invalid: invalid.map(([name, description, h, code]) => ({
    name,
    description,
    hex: h,
    error: reasonName(ReasonCode[code]),
    code: ReasonCode[code],
  })),
  rejectedHeaders: rejectedHeaders.map(([name, description, h, code]) => ({
    name,
    description,
    hex: h,
    error: code,
    code: ReasonCode[code],
  })),
};

writeFileSync(new URL('./vectors.json', import.meta.url), JSON.stringify(out, null, 2) + '\n');
console.log(
  `wrote ${out.valid.length} valid, ${out.invalid.length} invalid, ${out.rejectedHeaders.length} rejected-header vectors`,
);
