// @peerfetch/crypto — browser-safe entry (Node 20 and Chromium).
export * from './errors.js';
export {
  toBase64url,
  fromBase64url,
  toBase32,
  toHex,
  fromHex,
  utf8,
  bytesEqual,
  encodeFields,
} from './encoding.js';
export * from './keys.js';
export * from './enrollment.js';
export * from './roles.js';
export * from './grants.js';
export * from './fingerprint.js';
export * from './transcript.js';
export * from './replay.js';
export * from './pins.js';
export * from './handshake.js';
export * from './turn.js';
