// @peerfetch/peer-http/node: Node-only additions (node-datachannel transport, upstream proxy).
export * from '../index.js';
export * from './node-datachannel.js';
export * from './proxy.js';
