// @peerfetch/peer-http: HTTP over a DataChannel (browser-safe entry point). See PROTOCOL.md.
export type { Transport } from './transport.js';
export * from './frame.js';
export * from './errors.js';
export * from './config.js';
export { encode, encodeHeaderBlock } from './encode.js';
export { Decoder, decodeAll, type DecoderOptions } from './decode.js';
export * from './transports/rtc-data-channel.js';
