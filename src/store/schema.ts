/** Row types of every table, as Kysely sees them. JSON columns are stored as text in both databases. */
import type { DashboardSchema } from '../dashboard/tables.js';


export interface ModelsTable {
  id: string;
  name: string;
  task: string;
  modality: string;
  description: string | null;
  tags: string; // JSON string[]
  created_at: string;
  updated_at: string;
}

export interface ModelVersionsTable {
  id: string;
  model_id: string;
  version: string;
  /** numeric parts of the semantic version, for ordering in SQL */
  major: number;
  minor: number;
  patch: number;
  status: string;
  artifact_sha256: string;
  artifact_size: number;
  input_spec: string; // JSON InputSpec
  output_spec: string; // JSON OutputSpec
  metrics: string; // JSON Record<string, number>
  params: string; // JSON
  metadata: string; // JSON
  reference_profile: string | null; // JSON ReferenceProfile
  lineage: string; // JSON
  created_by: string;
  created_at: string;
}

export interface ModelAliasesTable {
  model_id: string;
  alias: string;
  version_id: string;
  updated_at: string;
}

export interface ModelEventsTable {
  id: string;
  model_id: string;
  action: string;
  alias: string | null;
  from_version_id: string | null;
  to_version_id: string | null;
  actor: string;
  reason: string | null;
  created_at: string;
}

export interface ArtifactsTable {
  sha256: string;
  size_bytes: number;
  media_type: string;
  created_at: string;
}

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

export interface OutboxTable {
  id: string;
  topic: string; // logical topic (patient_data, alerts, ...)
  msg_key: string | null;
  payload: string; // JSON
  headers: string | null; // JSON Record<string, string>
  attempts: number;
  last_error: string | null;
  created_at: string;
}

export interface BusMessagesTable {
  id: string;
  topic: string; // broker topic name
  msg_key: string | null;
  payload: string; // JSON text as published
  headers: string | null; // JSON Record<string, string>
  published_at: string;
}

export interface BusGroupsTable {
  topic: string;
  group_name: string;
  created_at: string;
}

export interface BusDeliveriesTable {
  topic: string;
  group_name: string;
  message_id: string;
  msg_key: string | null;
  /** deliveries so far (claims count, so a message that crashes its consumer is dead-lettered too) */
  attempts: number;
  available_at: string;
  locked_by: string | null;
  locked_until: string | null;
  last_error: string | null;
}

export interface BusDeadLettersTable {
  id: string;
  message_id: string;
  topic: string;
  group_name: string;
  msg_key: string | null;
  payload: string;
  headers: string | null;
  attempts: number;
  error: string;
  failed_at: string;
}

export interface AbTestsTable {
  id: string;
  name: string;
  model_id: string;
  model_name: string;
  mode: string; // ab | canary | shadow
  status: string; // active | completed | stopped
  control_version_id: string;
  treatment_version_id: string;
  /** treatment's share of traffic, 0..1 (the current stage's, for a canary) */
  traffic_split: number;
  metric: string;
  decision_mode: string; // auto | recommend-only
  hash_seed: string;
  config: string; // JSON AbTestConfig
  canary_stage: number | null;
  /** when traffic_split last changed: the sample-ratio check counts from here */
  split_changed_at: string;
  sequential_state: string | null; // JSON: running minimum of each always-valid p-value
  decision: string | null; // promote | rollback
  winner: string | null; // control | treatment
  decision_reason: string | null;
  last_evaluation: string | null; // JSON AbTestReport
  created_by: string;
  created_at: string;
  updated_at: string;
  ended_at: string | null;
}

export interface ReleaseEventsTable {
  id: string;
  test_id: string | null;
  model_id: string;
  action: string;
  actor: string;
  reason: string | null;
  details: string; // JSON
  created_at: string;
}

export interface DeploymentSlotsTable {
  model_id: string;
  slot: string; // blue | green
  version_id: string | null;
  live: number; // 1 for the slot production points at
  health: string | null; // JSON: the last health check
  updated_at: string;
}

export interface PipelineRunsTable {
  id: string;
  pipeline: string;
  model_name: string | null;
  trigger: string;
  incident_key: string | null;
  status: string;
  request: string; // JSON
  stages: string; // JSON StageRecord[]
  params: string; // JSON
  metrics: string; // JSON
  result: string; // JSON
  error: string | null;
  created_by: string;
  created_at: string;
  started_at: string | null;
  finished_at: string | null;
  updated_at: string;
}

export interface PipelineJobsTable {
  id: string;
  kind: string;
  run_id: string | null;
  payload: string; // JSON
  status: string; // queued | running | done | failed
  attempts: number;
  max_attempts: number;
  available_at: string;
  locked_by: string | null;
  lease_until: string | null;
  heartbeat_at: string | null;
  last_error: string | null;
  created_at: string;
  updated_at: string;
}

export interface RetrainingPoliciesTable {
  model_name: string;
  enabled: number;
  config: string; // JSON
  updated_at: string;
}

export interface ExperimentsTable {
  id: string;
  name: string;
  created_at: string;
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
}

export interface TrackingStepsTable {
  run_id: string;
  key: string;
  step: number;
  value: number;
  created_at: string;
}

export interface Schema extends DashboardSchema {
  models: ModelsTable;
  model_versions: ModelVersionsTable;
  model_aliases: ModelAliasesTable;
  model_events: ModelEventsTable;
  artifacts: ArtifactsTable;
  prediction_logs: PredictionLogsTable;
  monitoring_checks: MonitoringChecksTable;
  alerts: AlertsTable;
  outbox: OutboxTable;
  bus_messages: BusMessagesTable;
  bus_groups: BusGroupsTable;
  bus_deliveries: BusDeliveriesTable;
  bus_dead_letters: BusDeadLettersTable;
  ab_tests: AbTestsTable;
  release_events: ReleaseEventsTable;
  deployment_slots: DeploymentSlotsTable;
  pipeline_runs: PipelineRunsTable;
  pipeline_jobs: PipelineJobsTable;
  retraining_policies: RetrainingPoliciesTable;
  experiments: ExperimentsTable;
  tracking_runs: TrackingRunsTable;
  tracking_steps: TrackingStepsTable;
}
