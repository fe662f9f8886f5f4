/**
 * One monitoring check of one model version: drift, output drift, decay, operations, health and
 * the recommendations a person can act on. Pure: the window and the profile in, the report out.
 */
import { errorCodes } from '../errors.js';
import { estimateCbpe } from '../stats/cbpe.js';
import { type SubgroupReport, type SubgroupSpec, computeSubgroups } from './subgroups.js';
import type { ReferenceProfile } from '../stats/reference-profile.js';
import { type DecayResult, computeDecay } from './decay.js';
import { type DriftOptions, type DriftResult, type OutputDrift, computeDataDrift, computeOutputDrift, flattenInput } from './drift-report.js';
import { type HealthScore, healthScore } from './health-score.js';
import type { PredictionLogEntry } from './prediction-log.js';

export const MIN_WINDOW = 100;

export interface MonitoringReport {
  model_id: string;
  model_name: string;
  version_id: string;
  version: string;
  timestamp: string;
  status: 'ok' | 'insufficient_data';
  /** predictions in the window, and how many more are needed for a verdict */
  window: { size: number; limit: number; needed: number };
  drift: DriftResult | null;
  outputs: OutputDrift;
  decay: DecayResult;
  /**
   * Performance before labels: CBPE (calibrated on the version's labelled evaluation data) when the
   * profile carries it, else the mean top-class probability (right only for a calibrated model).
   */
  estimated_performance: {
    method: 'cbpe' | 'mean_confidence';
    n: number;
    accuracy: number;
    accuracy_band: [number, number] | null;
    roc_auc: number | null;
  } | null;
  /**
   * `errors` / `error_rate` count model failures only (inference failures, 5xx); the caller's own
   * mistakes (4xx: invalid input, unknown model) are `client_errors` / `client_error_rate`.
   */
  /** performance per declared subgroup of the labelled window (null when the version declares none) */
  subgroups: SubgroupReport | null;
  operations: {
    requests: number;
    errors: number;
    error_rate: number;
    client_errors: number;
    client_error_rate: number;
    p50_latency_ms: number | null;
    p95_latency_ms: number | null;
  };
  health: HealthScore;
  recommendations: string[];
}

export interface ReportInputs {
  model: { id: string; name: string };
  version: { id: string; version: string; labels: string[]; metrics: Record<string, number> };
  profile: ReferenceProfile | null;
  window: PredictionLogEntry[];
  labelled: PredictionLogEntry[];
  windowLimit: number;
  driftThreshold: number;
  decayThreshold: number;
  /** drift decision options beyond the threshold (alpha, correction, column types) */
  drift?: Omit<DriftOptions, 'threshold'>;
  subgroups?: SubgroupSpec | null;
  now?: Date;
}

/**
 * Whether a logged error code is the model's failure (true) or the caller's (false): codes of the
 * error registry with a 4xx status are the caller's; 5xx codes, INTERNAL and unknown codes are the model's.
 */
export function isModelError(code: string): boolean {
  const status = (errorCodes as Record<string, number>)[code];
  return status === undefined || status >= 500;
}

function quantile(sorted: number[], q: number): number | null {
  if (!sorted.length) return null;
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  return sorted[lo]! + (sorted[Math.ceil(pos)]! - sorted[lo]!) * (pos - lo);
}

const pct = (x: number) => `${(x * 100).toFixed(0)}%`;
/** Feature names that mark an acquisition (equipment) or population attribute in drift reports. */
export const EQUIPMENT_FEATURE = /manufacturer|device|station|scanner|model_name|equipment|modality|kvp|institution/i;
export const POPULATION_FEATURE = /age|sex|gender|population|site|region|ethnic/i;

/** The probability of the positive class (labels[1]) from a logged probability row, if any. */
function positiveScore(p: PredictionLogEntry['probabilities'], labels: string[]): number | null {
  if (!p) return null;
  const v = Array.isArray(p) ? p[1] : p[labels[1] ?? '1'];
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
}

function estimatePerformance(i: ReportInputs, ok: PredictionLogEntry[], meanConfidence: number | null, n: number): MonitoringReport['estimated_performance'] {
  const labels = i.version.labels;
  if (i.profile?.cbpe && labels.length === 2) {
    const scored = ok.map((e) => ({ s: positiveScore(e.probabilities, labels), pred: String(e.prediction) === labels[1] ? 1 : 0 })).filter((r): r is { s: number; pred: number } => r.s !== null);
    if (scored.length > 0) {
      const e = estimateCbpe(
        i.profile.cbpe,
        scored.map((r) => r.s),
        scored.map((r) => r.pred),
      );
      return { method: 'cbpe', n: e.n, accuracy: e.accuracy, accuracy_band: e.accuracy_band, roc_auc: e.roc_auc };
    }
  }
  return meanConfidence === null ? null : { method: 'mean_confidence', n, accuracy: meanConfidence, accuracy_band: null, roc_auc: null };
}

export function buildMonitoringReport(i: ReportInputs): MonitoringReport {
  const ok = i.window.filter((e) => e.error === null);
  const failed = i.window.filter((e) => e.error !== null);
  const errors = failed.filter((e) => isModelError(e.error!)).length;
  const clientErrors = failed.length - errors;
  const latencies = ok
    .map((e) => e.latency_ms)
    .filter((v): v is number => typeof v === 'number')
    .sort((a, b) => a - b);
  const confidences = ok.map((e) => e.confidence).filter((v): v is number => typeof v === 'number');
  const meanConfidence = confidences.length ? confidences.reduce((a, b) => a + b, 0) / confidences.length : null;
  const estimated = estimatePerformance(i, ok, meanConfidence, confidences.length);
  const estimatedAccuracy = estimated?.accuracy ?? null;
  const sufficient = ok.length >= MIN_WINDOW;
  const drift =
    sufficient && i.profile
      ? computeDataDrift(
          i.profile,
          ok.map((e) => flattenInput(e.input)),
          { ...i.drift, threshold: i.driftThreshold },
        )
      : null;
  const outputs = sufficient
    ? computeOutputDrift(
        i.profile,
        ok.map((e) => String(e.prediction)),
        confidences,
        { threshold: i.driftThreshold },
      )
    : { prediction_drift: null, confidence: null };
  const decay = computeDecay(i.labelled, {
    labels: i.version.labels,
    baseline: i.version.metrics,
    threshold: i.decayThreshold,
    minLabels: MIN_WINDOW,
    estimatedAccuracy,
  });
  const subgroups = i.subgroups ? computeSubgroups(i.labelled, i.version.labels, i.subgroups) : null;
  const operations = {
    requests: i.window.length,
    errors,
    error_rate: i.window.length ? errors / i.window.length : 0,
    client_errors: clientErrors,
    client_error_rate: i.window.length ? clientErrors / i.window.length : 0,
    p50_latency_ms: quantile(latencies, 0.5),
    p95_latency_ms: quantile(latencies, 0.95),
  };
  const health = healthScore({
    driftShare: drift?.drift_score ?? null,
    accuracyDecay: decay.sufficient ? decay.accuracy_decay : null,
    decayThreshold: i.decayThreshold,
    errorRate: i.window.length ? operations.error_rate : null,
    p95LatencyMs: operations.p95_latency_ms,
  });

  const recommendations: string[] = [];
  if (!sufficient) recommendations.push(`Insufficient data: ${ok.length} predictions in the window; ${MIN_WINDOW - ok.length} more are needed for a drift verdict.`);
  if (!i.profile) recommendations.push('This version has no reference profile: register it with reference_data (or train it in Vitals) to enable drift checks.');
  if (decay.decay_detected) {
    recommendations.push(`Retrain: accuracy fell from ${decay.baseline_accuracy?.toFixed(3)} to ${decay.current_accuracy?.toFixed(3)} over the last ${decay.labels} labelled predictions.`);
  } else if (!decay.sufficient && decay.labels > 0) {
    recommendations.push(`Decay: ${decay.labels} labels so far; ${MIN_WINDOW - decay.labels} more are needed for a verdict.`);
  }
  if (drift) {
    const drifted = drift.drifted_features.map((f) => drift.feature_drifts[f]!).sort((a, b) => b.effect - a.effect);
    for (const f of drifted.slice(0, 5)) {
      if (f.type === 'categorical' && f.largest_shift) {
        const s = f.largest_shift;
        const kind = EQUIPMENT_FEATURE.test(f.feature) ? 'equipment change: check' : POPULATION_FEATURE.test(f.feature) ? 'population change: review' : 'investigate';
        recommendations.push(`${kind[0]!.toUpperCase()}${kind.slice(1)} ${f.feature} = "${s.category}", whose share of traffic moved from ${pct(s.reference_share)} to ${pct(s.current_share)}.`);
      } else {
        recommendations.push(
          `Investigate feature "${f.feature}": its mean moved from ${f.reference.mean?.toPrecision(4)} to ${f.current.mean?.toPrecision(4)} (${f.effect.toFixed(2)} reference standard deviations; KS p = ${f.p_value.toExponential(2)}, adjusted ${f.p_value_adjusted.toExponential(2)}).`,
        );
      }
    }
    for (const f of Object.values(drift.feature_drifts)) {
      const bad = f.counts.non_finite + f.counts.invalid;
      if (bad > 0) recommendations.push(`Feature "${f.feature}": ${bad} of ${f.counts.rows} values were non-finite or not numbers (${f.counts.missing} missing); check the callers' input.`);
    }
    for (const s of drift.skipped) recommendations.push(`Feature "${s.feature}" was not tested: ${s.reason}.`);
    if (drift.dataset_drift) recommendations.push(`Retrain on recent data: ${drift.drifted_features.length} of ${Object.keys(drift.feature_drifts).length} features drifted.`);
  }
  if (subgroups?.below_target.length) {
    const w = subgroups.below_target.reduce((a, b) => ((b.metrics.accuracy.value ?? 1) < (a.metrics.accuracy.value ?? 1) ? b : a));
    recommendations.push(`Subgroup ${w.column} = "${w.value}" performs below target (accuracy ${w.metrics.accuracy.value?.toFixed(3)} over ${w.n} labels): review it before it harms those patients.`);
  }
  if (outputs.prediction_drift?.drifted) {
    const r = outputs.prediction_drift;
    recommendations.push(
      `Prediction drift: the share of predicted labels moved (${Object.entries(r.current)
        .map(([k, v]) => `${k} ${pct(v)} vs ${pct(r.reference[k] ?? 0)}`)
        .join(', ')}).`,
    );
  }
  if (outputs.confidence?.degraded) {
    recommendations.push(
      `Confidence fell from ${outputs.confidence.reference_mean.toFixed(3)} to ${outputs.confidence.current_mean.toFixed(3)}: the model is less sure of itself; collect labels to confirm decay.`,
    );
  }
  if (operations.error_rate > 0.05) recommendations.push(`${pct(operations.error_rate)} of requests failed inside the model: check the inference errors in the log.`);
  if (operations.client_error_rate > 0.05) recommendations.push(`${pct(operations.client_error_rate)} of requests were rejected as invalid (4xx): check the callers' input.`);
  if ((operations.p95_latency_ms ?? 0) > 2000) recommendations.push(`p95 latency is ${operations.p95_latency_ms?.toFixed(0)} ms: add inference workers or enable batching.`);

  return {
    model_id: i.model.id,
    model_name: i.model.name,
    version_id: i.version.id,
    version: i.version.version,
    timestamp: (i.now ?? new Date()).toISOString(),
    status: sufficient ? 'ok' : 'insufficient_data',
    window: { size: ok.length, limit: i.windowLimit, needed: Math.max(0, MIN_WINDOW - ok.length) },
    drift,
    outputs,
    decay,
    estimated_performance: estimated,
    subgroups,
    operations,
    health,
    recommendations,
  };
}
