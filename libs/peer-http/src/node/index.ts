export { PROTOCOL_VERSION } from '../index.js';
export * from './node-datachannel.js';
