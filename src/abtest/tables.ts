/** Release tests' tables. JSON columns are stored as text in both databases. */

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

export interface AbTestSchema {
  ab_tests: AbTestsTable;
  release_events: ReleaseEventsTable;
  deployment_slots: DeploymentSlotsTable;
}
