/**
 * The monitoring capability: the prediction log, drift / decay / health reports, the monitor that
 * runs and stores checks and turns them into alerts, the notifiers, and its HTTP plugin.
 * Other folders import monitoring through this file.
 */
export { ModelMonitor, type Alert, type AlertOutbox, type ModelStatus, type MonitorOptions } from './model-monitor.js';
export { ReportPool } from './report-pool.js';
export { PredictionLog, type PredictionLogEntry, type PredictionLogOptions, type PredictionRecord, type PredictionOutbox } from './prediction-log.js';
export { purgePredictions, idBefore, type PurgeOptions, type PurgeResult } from './prediction-retention.js';
export { AlertNotifier } from './notifiers.js';
export { buildMonitoringReport, isModelError, type MonitoringReport } from './monitoring-report.js';
export { computeDataDrift, computeOutputDrift, flattenInput, type DriftOptions, type DriftResult, type FeatureDrift } from './drift-report.js';
export { computeDecay, type DecayResult, type MetricDecay } from './decay.js';
export { evaluateAlertRules, type AlertThresholds } from './alert-rules.js';
export { readRows } from './drift-data.js';
export { monitoringPlugin, type MonitoringDeps } from './routes.js';
export { registryLabelSpace, type LabelSpace, type LabelSpaceOf } from './ground-truth.js';
export { computeSubgroups, subgroupSpec, type SubgroupReport, type SubgroupSpec } from './subgroups.js';
export { ChangeControl, evaluateAcceptance, renderEvidenceHtml, type AcceptanceCriterion, type AcceptanceEvidence } from './change-control.js';
export { AlertWorkflow, suggestedActions, type AlertEvent, type AlertHandling } from './alert-workflow.js';
export {
  ReportGroundTruth,
  labelFromReport,
  DEFAULT_POLICY,
  type ReportLabelPolicy,
  type StoredReportLabelPolicy,
  type IncomingReport,
  type ReportIngestResult,
  type ReportLabelResult,
} from './report-ground-truth.js';
export { reportLabelsPlugin, type ReportLabelsDeps } from './report-routes.js';
export type { GroundTruthSource } from './prediction-log.js';
