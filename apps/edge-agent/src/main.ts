// Public surface of the edge agent (for the lead's wiring and for tests of other projects).
export * from './config.js';
export * from './identity.js';
