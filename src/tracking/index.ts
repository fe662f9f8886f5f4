export * from './experiment-tracking.js';
export { trackingRoutes, type TrackingDeps } from './routes.js';
export { createMlflowApi, mlflowPlugin, type MlflowDeps, MlflowTracking, MlflowModelRegistry, RunArtifacts } from './mlflow/index.js';
