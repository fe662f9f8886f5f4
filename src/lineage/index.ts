/** Traceability: a prediction or a model version back to its run, data, params, metrics and promotions. */
export { Lineage, type LineageDeps, type PredictionLineage, type VersionLineage, type DataLineage, type RunLineage, type AliasMove } from './lineage.js';
export { lineagePlugin, predictionLineageView, versionLineageView, type LineageRouteDeps } from './routes.js';
