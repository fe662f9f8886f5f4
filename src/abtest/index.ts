export * from './types.js';
export * from './ab-testing.js';
export * from './ab-test-store.js';
export * from './analysis.js';
export * from './decision.js';
export * from './blue-green.js';
export * from './status-view.js';
export * from './variant-stats.js';
