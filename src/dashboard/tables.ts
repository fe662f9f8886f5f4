/** Row types of the dashboard's own tables (spread into store/schema.ts `Schema`). */

/** Predictions of one model version in one 5-minute or 1-hour bucket: counts and a latency histogram. */
export interface PredictionRollupsTable {
  model_id: string;
  /** 300 or 3600 */
  bucket_seconds: number;
  /** '' for predictions logged without a resolved version */
  version_id: string;
  /** ISO start of the bucket (UTC, a multiple of the bucket width) */
  bucket_start: string;
  count: number;
  errors: number;
  latency_count: number;
  latency_sum: number;
  /** JSON [index, count, index, count, …] over the log-spaced buckets of latency-histogram.ts */
  latency_hist: string;
}

/** How far the rollup has read the prediction log (one row, name 'prediction_logs'). */
export interface RollupCursorsTable {
  name: string;
  last_id: string;
  updated_at: string;
}

export interface DashboardSchema {
  prediction_rollups: PredictionRollupsTable;
  rollup_cursors: RollupCursorsTable;
}
