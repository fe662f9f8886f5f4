export * from './predictor.js';
export * from './inference-pool.js';
export * from './served-model.js';
export * from './image-input.js';
export * from './tabular-input.js';
export * from './classification-output.js';
export * from './dynamic-batcher.js';
export * from './prediction-cache.js';
