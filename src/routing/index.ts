export * from './growthbook-hash.js';
export * from './traffic-router.js';
