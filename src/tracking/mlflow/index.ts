/** The MLflow REST API over Vitals tracking and the Vitals registry (see mlflow-routes.ts). */
import type { ArtifactStore } from '../../registry/index.js';
import type { Database } from '../../store/index.js';
import { MlflowModelRegistry, type RegistryForMlflow } from './mlflow-registry.js';
import type { MlflowDeps } from './mlflow-routes.js';
import { MlflowTracking } from './mlflow-tracking.js';
import { RunArtifacts } from './run-artifacts.js';

export { MlflowModelRegistry, type RegistryForMlflow } from './mlflow-registry.js';
export { type MlflowDeps, mlflowPlugin } from './mlflow-routes.js';
export { MlflowTracking } from './mlflow-tracking.js';
export { RunArtifacts } from './run-artifacts.js';

/** The MLflow services over one database, the registry and its content-addressed artifact store. */
export function createMlflowApi(database: Database, registry: RegistryForMlflow, store: Pick<ArtifactStore, 'put' | 'get'>): MlflowDeps {
  const tracking = new MlflowTracking(database);
  const artifacts = new RunArtifacts(database, store);
  return { tracking, artifacts, models: new MlflowModelRegistry(database, registry, tracking, artifacts) };
}
