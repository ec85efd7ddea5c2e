export { PROTOCOL_VERSION } from '../index.js';
