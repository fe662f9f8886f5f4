export * from './model-registry.js';
export * from './artifact-store.js';
export * from './specs.js';
export * from './semver.js';
