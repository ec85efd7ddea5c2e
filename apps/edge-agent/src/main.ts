// Public surface of the edge agent (for the lead's wiring and for tests of other projects).
export * from './config.js';
export * from './identity.js';
export * from './clips/clips.js';
export * from './http/proxy.js';
export * from './http/router.js';
export * from './audit/audit-log.js';
export * from './agent.js';
export * from './enroll.js';
export * from './metrics.js';
export * from './state.js';
export * from './log.js';
export * from './mqtt/link.js';
export * from './mqtt/topics.js';
export * from './mqtt/backoff.js';
export { AGENT_VERSION } from './version.js';
