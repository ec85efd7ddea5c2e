export const PROTOCOL_VERSION = 1;
export * from './transports/rtc-data-channel.js';
