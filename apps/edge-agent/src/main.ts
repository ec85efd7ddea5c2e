// Public surface of the edge agent (for the lead's wiring and for tests of other projects).
export * from './config.js';
export * from './identity.js';
export * from './clips/clips.js';
export * from './http/proxy.js';
export * from './http/router.js';
export * from './audit/audit-log.js';
