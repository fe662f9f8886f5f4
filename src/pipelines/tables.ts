/** The pipelines capability's tables. JSON columns are stored as text in both databases. */

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

export interface PipelinesSchema {
  pipeline_runs: PipelineRunsTable;
  pipeline_jobs: PipelineJobsTable;
  retraining_policies: RetrainingPoliciesTable;
}
