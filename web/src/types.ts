/** Shapes of the dashboard endpoints (mirrors src/dashboard/views.ts). */
export interface BucketPoint {
  t: string;
  count: number;
  errors: number;
  error_rate: number | null;
  p50_ms: number | null;
  p99_ms: number | null;
}
export interface Summary {
  count: number;
  errors: number;
  error_rate: number | null;
  p50_ms: number | null;
  p99_ms: number | null;
  mean_ms: number | null;
}
export interface Series {
  summary: Summary;
  buckets: BucketPoint[];
}
export interface OverviewRow {
  model_id: string;
  name: string;
  task: string;
  modality: string;
  production: { id: string; version: string } | null;
  challenger: { id: string; version: string } | null;
  release: { id: string; mode: string; treatment_version: string; traffic_split: number } | null;
  hour: Series;
  day: Series;
  drift: { checked_at: string; share: number | null; drifted: number; features: number; top: Array<{ feature: string; effect: number; p_value: number }> } | null;
  accuracy: { realized: number | null; estimated: number | null; baseline: number | null; labels: number; window: number; label_coverage: number | null } | null;
  health: { score: number; band: string; checked_at: string } | null;
  open_alerts: { total: number; critical: number; warning: number; info: number };
  last_production_change: { action: string; from_version: string | null; to_version: string | null; actor: string; reason: string | null; at: string } | null;
}
export interface Overview {
  generated_at: string;
  models: OverviewRow[];
}

export interface FeatureSpec {
  name: string;
  type: 'number' | 'integer' | 'boolean' | 'category';
  min?: number;
  max?: number;
  categories?: string[];
  required?: boolean;
  description?: string;
}
export type InputSpec = { kind: 'tabular'; features: FeatureSpec[] } | { kind: 'image'; width: number; height: number; channels: number } | { kind: string };

export interface VersionRow {
  id: string;
  version: string;
  status: string;
  aliases: string[];
  metrics: Record<string, number>;
  lineage: Record<string, unknown>;
  params?: Record<string, unknown>;
  created_at: string;
  created_by: string;
  predictions: number;
}
export interface HistoryRow {
  id: string;
  action: string;
  alias: string | null;
  from_version: string | null;
  to_version: string | null;
  actor: string;
  reason: string | null;
  created_at: string;
}
export interface DriftCell {
  effect: number;
  p_value: number;
  drifted: boolean;
}
export interface ReleaseTest {
  id: string;
  name: string;
  mode: string;
  status: string;
  traffic_split: number;
  control_version: string;
  treatment_version: string;
  decision: string | null;
  winner: string | null;
  decision_reason: string | null;
  created_at: string;
  ended_at: string | null;
  evaluation: Record<string, any> | null;
}
export interface ModelPage {
  generated_at: string;
  model: { id: string; name: string; task: string; modality: string; description?: string | null };
  predictions: { total: number; by_version: Record<string, number> };
  versions: VersionRow[];
  history: HistoryRow[];
  window: 'hour' | 'day' | 'week';
  traffic: Series;
  traffic_by_version: Record<string, Series>;
  drift: {
    checks: Array<{ id: string; version: string; at: string; share: number | null; health: number | null; accuracy: number | null; estimated_accuracy: number | null }>;
    features: string[];
    cells: Record<string, Array<DriftCell | null>>;
    latest: Record<string, { type: string; reference: Record<string, any>; current: Record<string, any> }>;
  };
  release_tests: ReleaseTest[];
  input_spec: InputSpec | null;
  labels: string[];
}

export interface Paged<T> {
  total: number;
  limit: number;
  offset: number;
  items: T[];
}
export interface AlertItem {
  id: string;
  model_id: string;
  model_name: string;
  version: string | null;
  rule: string;
  severity: string;
  status: string;
  message: string;
  fired_at: string;
  last_seen_at: string;
  resolved_at: string | null;
  details: unknown;
}
export interface PipelineRun {
  id: string;
  pipeline: string;
  model_name: string | null;
  trigger: string;
  status: string;
  error: string | null;
  created_by: string;
  created_at: string;
  started_at: string | null;
  finished_at: string | null;
  stages: Array<{ name: string; status: string; duration_ms: number | null; error: string | null; log_tail: string[] }>;
  progress: { done: number; total: number };
}
export interface ExperimentRun {
  id: string;
  experiment: string;
  name: string | null;
  status: string;
  started_at: string;
  ended_at: string | null;
  metrics: Record<string, number>;
  params: Record<string, unknown>;
}
