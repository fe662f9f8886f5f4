/**
 * Model decay: quality over the labelled window against the version's baseline metrics (those it was
 * registered with), decided with uncertainty on both sides.
 *
 * For accuracy (and sensitivity / specificity when the baseline has them), with level alpha = 0.05
 * split in two halves:
 * - the baseline's lower bound: the Wilson interval of the baseline value on the baseline's own
 *   sample size (`n_test` / `n_eval` in the version's metrics) — one-sided alpha/2. Without a sample
 *   size the baseline is taken as exact (and the report says so);
 * - the current value's upper bound: an always-valid confidence sequence (the normal-mixture
 *   mSPRT of src/stats/sequential.ts on the running proportion, τ² tuned to `minLabels`), at
 *   alpha/2. Because it holds uniformly over every number of labels, checking again after every new
 *   label does not inflate the false-alarm rate: P(any false alarm, ever) ≤ alpha while the
 *   labelled window grows. Once the window is full and slides, consecutive windows overlap and each
 *   check is still a test at level ≤ alpha/2 on its own.
 * - decay is detected when the current upper bound lies below the baseline lower bound (the drop is
 *   significant) AND the point drop exceeds MODEL_DECAY_THRESHOLD (the drop matters), with at least
 *   `minLabels` labels. Below that there is no verdict.
 */
import { classificationMetrics } from '../stats/classification-metrics.js';
import { wilsonInterval } from '../stats/multiple-testing.js';
import { msprtConfidenceInterval, msprtTau2 } from '../stats/sequential.js';

export interface MetricDecay {
  metric: 'accuracy' | 'sensitivity' | 'specificity';
  /** labels the metric is computed on (all, the true positives' class, the true negatives' class) */
  n: number;
  current: number | null;
  baseline: number | null;
  /** the baseline's sample size, when the version's metrics carry it */
  baseline_n: number | null;
  /** baseline − current */
  drop: number | null;
  /** always-valid upper confidence bound of the current value (one-sided alpha/2) */
  current_upper: number | null;
  /** lower confidence bound of the baseline (Wilson, one-sided alpha/2); the baseline itself when baseline_n is unknown */
  baseline_lower: number | null;
  significant: boolean;
  decay_detected: boolean;
}

export interface DecayResult {
  labels: number;
  min_labels: number;
  sufficient: boolean;
  decay_detected: boolean;
  current_accuracy: number | null;
  baseline_accuracy: number | null;
  accuracy_decay: number | null;
  current: { accuracy: number; precision: number; recall: number; f1: number; specificity: number | null } | null;
  baseline: Record<string, number>;
  /** mean top-class probability over the whole window: the expected accuracy of a calibrated model without labels */
  estimated_accuracy: number | null;
  /** how the decision was made */
  test: { method: 'confidence_sequence'; alpha: number; threshold: number };
  metrics: MetricDecay[];
}

export interface DecayOptions {
  labels: string[];
  baseline: Record<string, number>;
  threshold: number;
  minLabels: number;
  estimatedAccuracy: number | null;
  alpha?: number;
}

/** The baseline's evaluation sample size from the registered metrics, if any. */
export function baselineSampleSize(metrics: Record<string, number>): number | null {
  for (const key of ['n_test', 'n_eval', 'eval_n', 'n_validation', 'support']) {
    const n = metrics[key];
    if (typeof n === 'number' && Number.isFinite(n) && n >= 1) return Math.round(n);
  }
  return null;
}

/** Always-valid upper bound of a proportion of `successes` in `n` (two-sided sequence at `level`). */
export function proportionUpperBound(successes: number, n: number, level: number, plannedN: number, plannedP: number): number {
  // plug-in variance with one pseudo-success and one pseudo-failure, so p̂ = 0 or 1 is not certain
  const p = successes / n;
  const pv = (successes + 1) / (n + 2);
  const variance = (pv * (1 - pv)) / n;
  const tau2 = msprtTau2(Math.max(1e-6, (plannedP * (1 - plannedP)) / plannedN), level);
  return Math.min(1, msprtConfidenceInterval({ diff: p, variance, tau2, alpha: level })[1]);
}

function metricDecay(
  metric: MetricDecay['metric'],
  successes: number,
  n: number,
  baseline: number | undefined,
  baselineN: number | null,
  o: Required<Pick<DecayOptions, 'alpha' | 'threshold' | 'minLabels'>>,
): MetricDecay {
  const current = n > 0 ? successes / n : null;
  const base = typeof baseline === 'number' && Number.isFinite(baseline) ? baseline : null;
  const out: MetricDecay = { metric, n, current, baseline: base, baseline_n: baselineN, drop: null, current_upper: null, baseline_lower: null, significant: false, decay_detected: false };
  if (current === null || base === null) return out;
  out.drop = base - current;
  out.current_upper = proportionUpperBound(successes, n, o.alpha / 2, o.minLabels, base);
  out.baseline_lower = baselineN ? wilsonInterval(Math.round(base * baselineN), baselineN, o.alpha)[0] : base;
  out.significant = n >= o.minLabels && out.current_upper < out.baseline_lower;
  out.decay_detected = out.significant && out.drop > o.threshold;
  return out;
}

export function computeDecay(labelled: Array<{ prediction: string | null; ground_truth: string | null }>, options: DecayOptions): DecayResult {
  const alpha = options.alpha ?? 0.05;
  const rows = labelled.filter((r) => r.prediction !== null && r.ground_truth !== null);
  const baselineAccuracy = options.baseline.accuracy ?? null;
  const base = {
    labels: rows.length,
    min_labels: options.minLabels,
    baseline: options.baseline,
    baseline_accuracy: baselineAccuracy,
    estimated_accuracy: options.estimatedAccuracy,
    test: { method: 'confidence_sequence' as const, alpha, threshold: options.threshold },
  };
  if (rows.length === 0) {
    return { ...base, sufficient: false, decay_detected: false, current_accuracy: null, accuracy_decay: null, current: null, metrics: [] };
  }
  // Binary metrics treat the second label (e.g. "malignant", "PNEUMONIA", "1") as positive.
  const positive = options.labels[1] ?? '1';
  const classOf = (v: string) => (v === positive ? 1 : 0);
  const m = classificationMetrics(
    rows.map((r) => classOf(r.ground_truth!)),
    rows.map((r) => classOf(r.prediction!)),
  );
  // Accuracy compares labels directly, so it is right for any number of classes.
  const correct = rows.filter((r) => r.prediction === r.ground_truth).length;
  const accuracy = correct / rows.length;
  const o = { alpha, threshold: options.threshold, minLabels: options.minLabels };
  const baselineN = baselineSampleSize(options.baseline);
  const metrics = [metricDecay('accuracy', correct, rows.length, baselineAccuracy ?? undefined, baselineN, o)];
  const binary = options.labels.length === 2;
  let specificity: number | null = null;
  if (binary) {
    const pos = rows.filter((r) => r.ground_truth === positive);
    const neg = rows.filter((r) => r.ground_truth !== positive);
    const tp = pos.filter((r) => r.prediction === positive).length;
    const tn = neg.filter((r) => r.prediction !== positive).length;
    specificity = neg.length ? tn / neg.length : null;
    // The baseline's positives/negatives: given in the metrics, or its n split at the current prevalence.
    const share = pos.length / rows.length;
    const nPos = options.baseline.n_positive ?? (baselineN ? Math.round(baselineN * share) : null);
    const nNeg = options.baseline.n_negative ?? (baselineN ? baselineN - Math.round(baselineN * share) : null);
    const sens = options.baseline.sensitivity ?? options.baseline.recall;
    if (sens !== undefined) metrics.push(metricDecay('sensitivity', tp, pos.length, sens, nPos || null, { ...o, minLabels: Math.max(1, Math.round(o.minLabels * share)) }));
    if (options.baseline.specificity !== undefined)
      metrics.push(metricDecay('specificity', tn, neg.length, options.baseline.specificity, nNeg || null, { ...o, minLabels: Math.max(1, Math.round(o.minLabels * (1 - share))) }));
  }
  const sufficient = rows.length >= options.minLabels;
  const decay = baselineAccuracy === null ? null : baselineAccuracy - accuracy;
  return {
    ...base,
    sufficient,
    decay_detected: sufficient && metrics[0]!.decay_detected,
    current_accuracy: accuracy,
    accuracy_decay: decay,
    current: { accuracy, precision: m.precision, recall: m.recall, f1: m.f1, specificity },
    metrics,
  };
}
