/** The vocabulary of release tests: modes, configuration (with defaults), states and decisions. */
import type { ReleaseMode, Variant } from '../routing/index.js';

export type { ReleaseMode, Variant };
export const RELEASE_MODES = ['ab', 'canary', 'shadow'] as const;
export const DECISION_MODES = ['auto', 'recommend-only'] as const;
export type DecisionMode = (typeof DECISION_MODES)[number];
export const TEST_METRICS = ['accuracy', 'error_rate', 'confidence', 'latency'] as const;
/** The primary metric a promotion is decided on. */
export type TestMetric = (typeof TEST_METRICS)[number];
export type AbTestStatus = 'active' | 'completed' | 'stopped';
export type Decision = 'promote' | 'rollback' | 'continue' | 'advance';

/** Knobs of one test. Every field has a default (DEFAULT_TEST_CONFIG). */
export interface AbTestConfig {
  /** predictions per variant (labelled ones, for accuracy) before a promotion; the seed recommends 1000 */
  min_samples: number;
  /** seconds the test runs at least before a promotion (champion/challenger `duration_days`) */
  min_duration_s: number;
  /** false-positive rate of every decision (two-sided) */
  alpha: number;
  /** power for the required-sample-size estimate */
  power: number;
  /** minimum effect worth detecting on the primary metric, in its units (absolute: 0.02 = 2 points) */
  mde: number;
  /** canary ramp: the treatment's share at each stage */
  canary_stages: number[];
  /** treatment predictions a canary stage needs before it may advance */
  canary_min_samples: number;
  /** seconds a canary stage lasts at least */
  canary_min_stage_s: number;
  /**
   * the p95-latency guardrail fires only when the treatment's p95 is this much worse (0.2 = 20 %)
   * and at least `latency_min_diff_ms` (5 ms) worse, as well as significantly: latencies of one
   * version are correlated through its batches and queues (a small canary's batches also wait up to
   * BATCH_MAX_WAIT_MS to fill), so a small gap can look "significant" without mattering
   */
  latency_tolerance: number;
  latency_min_diff_ms: number;
  /** predictions per variant before a guardrail may fire */
  guardrail_min_samples: number;
}

export const DEFAULT_TEST_CONFIG: AbTestConfig = {
  min_samples: 1000,
  min_duration_s: 0,
  alpha: 0.05,
  power: 0.8,
  mde: 0.02,
  canary_stages: [0.05, 0.25, 0.5, 1],
  canary_min_samples: 200,
  canary_min_stage_s: 0,
  latency_tolerance: 0.2,
  latency_min_diff_ms: 5,
  guardrail_min_samples: 100,
};

export interface AbTest {
  id: string;
  name: string;
  model_id: string;
  model_name: string;
  mode: ReleaseMode;
  status: AbTestStatus;
  control_version_id: string;
  control_version: string;
  treatment_version_id: string;
  treatment_version: string;
  /** the treatment's share of traffic (the current stage's, for a canary; the copied share, for a shadow) */
  traffic_split: number;
  metric: TestMetric;
  decision_mode: DecisionMode;
  hash_seed: string;
  config: AbTestConfig;
  canary_stage: number | null;
  split_changed_at: string;
  decision: 'promote' | 'rollback' | null;
  winner: Variant | null;
  decision_reason: string | null;
  created_by: string;
  created_at: string;
  updated_at: string;
  ended_at: string | null;
}

/**
 * Per metric: the running minimum of its always-valid p-value, the direction of the effect where it
 * was reached, and the mixing variance τ² fixed at the metric's first look.
 */
export type SequentialState = Record<string, { p: number; direction: -1 | 0 | 1; tau2?: number }>;

export interface ReleaseEvent {
  id: string;
  test_id: string | null;
  model_id: string;
  action: string;
  actor: string;
  reason: string | null;
  details: Record<string, unknown>;
  created_at: string;
}
