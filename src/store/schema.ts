import type { PipelineRunsTable, PipelineJobsTable, RetrainingPoliciesTable, PipelinesSchema } from '../pipelines/tables.js';
import type { AbTestsTable, ReleaseEventsTable, DeploymentSlotsTable, AbTestSchema } from '../abtest/tables.js';
import type { OutboxTable, BusMessagesTable, BusGroupsTable, BusDeliveriesTable, BusDeadLettersTable, MessagingSchema } from '../messaging/tables.js';
import type { ModelsTable, ModelVersionsTable, ModelAliasesTable, ModelEventsTable, ArtifactsTable, RegistrySchema } from '../registry/tables.js';
import type { AuthSchema } from '../auth/tables.js';
/** Row types of every table, as Kysely sees them. JSON columns are stored as text in both databases. */
import type { MonitoringSchema } from '../monitoring/tables.js';
import type { TrackingTables } from '../tracking/tables.js';
import type { DashboardSchema } from '../dashboard/tables.js';
import type { ClusterJobsSchema } from './cluster-jobs.js';
import type { AuditSchema } from '../audit/tables.js';

export interface PredictionLogsTable {
  id: string;
  model_id: string;
  version_id: string | null;
  model_name: string;
  version: string | null;
  variant: string | null;
  request_id: string | null;
  source: string;
  input: string; // JSON: features, or image fingerprint + non-identifying metadata
  prediction: string | null;
  probabilities: string | null; // JSON Record<label, number>
  confidence: number | null;
  latency_ms: number | null;
  ground_truth: string | null;
  ground_truth_at: string | null;
  /** error code of a failed prediction (then prediction is null) */
  error?: string | null;
  /** the release test (src/abtest) that routed this prediction */
  ab_test_id?: string | null;
  /** a shadow prediction: the id of the prediction it copied (whose ground truth it shares) */
  shadow_of?: string | null;
  created_at: string;
  /** the imaged study's remapped StudyInstanceUID (never the original), and a keyed hash of its accession number */
  study_uid?: string | null;
  accession_key?: string | null;
  /** where the ground truth came from: api | message | report */
  ground_truth_source?: string | null;
}

export interface MonitoringChecksTable {
  id: string;
  model_id: string;
  version_id: string;
  status: string;
  window_size: number;
  drift_score: number | null;
  health_score: number | null;
  accuracy: number | null;
  estimated_accuracy: number | null;
  report: string; // JSON MonitoringReport
  created_at: string;
}

export interface AlertsTable {
  id: string;
  model_id: string;
  version_id: string | null;
  rule: string;
  severity: string;
  dedup_key: string;
  status: string; // firing | resolved
  message: string;
  details: string; // JSON
  fired_at: string;
  last_seen_at: string;
  last_notified_at: string | null;
  resolved_at: string | null;
}

export interface ExperimentsTable {
  id: string;
  name: string;
  created_at: string;
  /** MLflow (0117_mlflow): active | deleted, tags (JSON), artifact location, last update */
  lifecycle_stage?: string;
  tags?: string;
  artifact_location?: string | null;
  updated_at?: string | null;
}

export interface TrackingRunsTable {
  id: string;
  experiment_id: string;
  name: string | null;
  status: string;
  config: string; // JSON
  metrics: string; // JSON
  tags: string; // JSON
  started_at: string;
  ended_at: string | null;
  /** MLflow (0117_mlflow): active | deleted, who started it, dataset inputs (JSON), when deleted */
  lifecycle_stage?: string;
  user_id?: string | null;
  inputs?: string;
  deleted_at?: string | null;
  metric_positions?: string;
}

export interface TrackingStepsTable {
  run_id: string;
  key: string;
  step: number;
  value: number;
  created_at: string;
}

export type {
  ModelsTable,
  ModelVersionsTable,
  ModelAliasesTable,
  ModelEventsTable,
  ArtifactsTable,
  OutboxTable,
  BusMessagesTable,
  BusGroupsTable,
  BusDeliveriesTable,
  BusDeadLettersTable,
  AbTestsTable,
  ReleaseEventsTable,
  DeploymentSlotsTable,
  PipelineRunsTable,
  PipelineJobsTable,
  RetrainingPoliciesTable,
};

/** Every capability's tables; monitoring's and tracking's still live here until their folders take them. */
export interface Schema extends ClusterJobsSchema, AuditSchema, DashboardSchema, TrackingTables, MonitoringSchema, AuthSchema, RegistrySchema, MessagingSchema, AbTestSchema, PipelinesSchema {
  prediction_logs: PredictionLogsTable;
  monitoring_checks: MonitoringChecksTable;
  alerts: AlertsTable;
  experiments: ExperimentsTable;
  tracking_runs: TrackingRunsTable;
  tracking_steps: TrackingStepsTable;
}
