/**
 * The shape a person deciding reads (`GET /api/v1/mlops/ab-testing/{test_id}`, `vitals ab status`):
 * the seed's fields first (control/treatment predictions and accuracy, improvement, chi-square
 * significance), then what the seed lacked: confidence interval, the always-valid p-value beside the
 * fixed-horizon one, sample sizes, the sample-ratio check, guardrail metrics and the decision.
 */
import type { AbTestReport, VariantSummary } from './analysis.js';
import type { TestDecision } from './decision.js';
import type { AbTest } from './types.js';

function variantView(v: VariantSummary) {
  return {
    model_id: v.version_id,
    version: v.version,
    predictions: v.predictions,
    accuracy: v.accuracy,
    labelled: v.labelled,
    errors: v.errors,
    error_rate: v.error_rate,
    mean_confidence: v.mean_confidence,
    mean_latency_ms: v.mean_latency_ms,
    p95_latency_ms: v.p95_latency_ms,
  };
}

export function statusView(test: AbTest, report: AbTestReport, decision: TestDecision) {
  const primary =
    report.primary_metric === 'accuracy' ? report.accuracy : report.primary_metric === 'error_rate' ? report.error_rate : report.primary_metric === 'confidence' ? report.confidence : report.latency;
  const isProportion = 'chi2' in primary;
  return {
    test_id: test.id,
    test_name: test.name,
    status: test.status,
    mode: test.mode,
    model: test.model_name,
    metric: test.metric,
    decision_mode: test.decision_mode,
    traffic_split: test.traffic_split,
    control: variantView(report.control),
    treatment: variantView(report.treatment),
    /** treatment − control on the primary metric */
    improvement: primary.diff,
    statistical_significance: {
      test: isProportion ? 'pearson chi-square, 2x2 (= two-proportion z-test)' : "welch's t-test",
      chi2: isProportion ? primary.chi2 : null,
      p_value: primary.p_value,
      significant: primary.significant,
      alpha: report.alpha,
      always_valid_p_value: primary.always_valid_p_value,
      sequential_significant: primary.sequential_significant,
      note: 'decisions use the always-valid (mixture SPRT) p-value, which may be looked at any time; the fixed-horizon p-value is valid only at a sample size fixed in advance',
    },
    confidence_interval: { level: 0.95, diff: primary.diff, ci95: primary.ci95 },
    sample_size: report.sample_size,
    sample_ratio: report.sample_ratio,
    metrics: {
      accuracy: report.accuracy,
      error_rate: report.error_rate,
      confidence: report.confidence,
      latency: report.latency,
      latency_p95: report.latency_p95,
      ...(report.agreement ? { agreement: report.agreement } : {}),
    },
    ...(test.mode === 'canary' ? { canary: { stages: test.config.canary_stages, stage: test.canary_stage, traffic_split: test.traffic_split, stage_started_at: test.split_changed_at } } : {}),
    decision,
    winner: test.winner,
    decision_reason: test.decision_reason,
    config: test.config,
    hash: { scheme: 'growthbook', hash_version: 2, seed: test.hash_seed },
    elapsed_s: report.elapsed_s,
    evaluated_at: report.evaluated_at,
    created_at: test.created_at,
    ended_at: test.ended_at,
  };
}
