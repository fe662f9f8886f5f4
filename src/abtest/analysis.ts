/**
 * The statistics of one look at a test (pure: observations in, report out).
 *
 * Every comparison is treatment − control and carries two p-values:
 * - the fixed-horizon one (two-proportion z-test = Pearson chi-square on the 2×2 table, or Welch's
 *   t-test), valid only if the test is looked at once, at a sample size fixed in advance;
 * - the always-valid one (mixture SPRT, kept as the running minimum over every look), valid however
 *   often the test is looked at. Decisions use only the always-valid one.
 */
import { chiSquare2x2, msprtPValue, proportionDiffEstimate, quantileLinear, requiredSampleSize, sampleRatioMismatch, twoProportionZTest, welchTTestFromStats } from '../stats/index.js';
import type { AbTest, SequentialState, TestMetric } from './types.js';
import type { Moments, TestObservations, VariantStats } from './variant-stats.js';

export interface ProportionComparison {
  control: { successes: number; n: number; rate: number | null };
  treatment: { successes: number; n: number; rate: number | null };
  diff: number | null;
  ci95: [number, number] | null;
  z: number | null;
  /** z for treatment − control (pooled), and Pearson chi-square on the 2×2 table (no continuity correction: chi2 = z², same p) */
  chi2: number | null;
  p_value: number | null;
  significant: boolean;
  always_valid_p_value: number | null;
  sequential_significant: boolean;
}

export interface MeanComparison {
  control: { n: number; mean: number | null; sd: number | null };
  treatment: { n: number; mean: number | null; sd: number | null };
  diff: number | null;
  ci95: [number, number] | null;
  t: number | null;
  df: number | null;
  p_value: number | null;
  significant: boolean;
  always_valid_p_value: number | null;
  sequential_significant: boolean;
}

export interface LatencyTail {
  control_p95_ms: number | null;
  treatment_p95_ms: number | null;
  /** treatment p95 / control p95 */
  ratio: number | null;
  /** share of each variant's predictions slower than the control's p95 (≈ 5 % for the control) */
  above_control_p95: ProportionComparison;
}

export interface VariantSummary {
  version_id: string;
  version: string;
  predictions: number;
  errors: number;
  error_rate: number | null;
  labelled: number;
  accuracy: number | null;
  mean_confidence: number | null;
  mean_latency_ms: number | null;
  p95_latency_ms: number | null;
}

export interface AbTestReport {
  test_id: string;
  evaluated_at: string;
  elapsed_s: number;
  alpha: number;
  primary_metric: TestMetric;
  control: VariantSummary;
  treatment: VariantSummary;
  accuracy: ProportionComparison;
  error_rate: ProportionComparison;
  confidence: MeanComparison;
  latency: MeanComparison;
  latency_p95: LatencyTail;
  /** shadow mode: share of inputs where the shadow answered as the control did */
  agreement: { n: number; rate: number | null } | null;
  sample_ratio: { observed: [number, number]; expected_share: [number, number]; statistic: number | null; p_value: number | null; mismatch: boolean } | null;
  sample_size: {
    metric: TestMetric;
    baseline: number | null;
    mde: number;
    alpha: number;
    power: number;
    /** per variant, for the fixed-horizon test to detect `mde` (null for continuous metrics) */
    required_per_variant: number | null;
    /** the configured minimum before a promotion (the seed recommends 1000) */
    min_samples: number;
    current_per_variant: { control: number; treatment: number };
  };
  sequential_state: SequentialState;
}

const rate = (s: number, n: number) => (n > 0 ? s / n : null);
const sign = (x: number) => (x > 0 ? 1 : x < 0 ? -1 : 0) as -1 | 0 | 1;

/**
 * One mSPRT look, folded into the running minimum across looks (what makes the p-value valid at any
 * stopping time). τ² is fixed at a metric's first look and kept in the state: the mixture must not
 * change with the data it is testing.
 */
function sequentialLook(state: SequentialState, key: string, diff: number, variance: number, tau2Default: number): { p: number | null; state: SequentialState } {
  const prev = state[key];
  const tau2 = prev?.tau2 ?? tau2Default;
  // No variance (every outcome identical so far): no evidence either way.
  if (!(variance > 0) || !Number.isFinite(diff) || !(tau2 > 0)) return { p: prev?.p ?? 1, state };
  const pNow = msprtPValue({ diff, variance, tau2 });
  if (prev && prev.p <= pNow) return { p: prev.p, state: prev.tau2 === undefined ? { ...state, [key]: { ...prev, tau2 } } : state };
  return { p: pNow, state: { ...state, [key]: { p: pNow, direction: sign(diff), tau2 } } };
}

function compareProportions(sA: number, nA: number, sB: number, nB: number, tau: number, alpha: number, state: SequentialState, key: string): { result: ProportionComparison; state: SequentialState } {
  const base = { control: { successes: sA, n: nA, rate: rate(sA, nA) }, treatment: { successes: sB, n: nB, rate: rate(sB, nB) } };
  if (nA < 1 || nB < 1) {
    const prev = state[key]?.p ?? null;
    return {
      result: { ...base, diff: null, ci95: null, z: null, chi2: null, p_value: null, significant: false, always_valid_p_value: prev, sequential_significant: prev !== null && prev < alpha },
      state,
    };
  }
  // A pooled rate of 0 or 1 (all outcomes identical) gives z = 0, p = 1 and no sequential evidence.
  const z = twoProportionZTest(sA, nA, sB, nB);
  const chi = chiSquare2x2(sA, nA, sB, nB, { correction: false });
  const est = proportionDiffEstimate(sA, nA, sB, nB);
  // Each arm all-or-nothing but different (e.g. 100 % vs 0 %): the unpooled variance is 0, the pooled one is not.
  const pooled = (sA + sB) / (nA + nB);
  const variance = est.variance > 0 ? est.variance : pooled * (1 - pooled) * (1 / nA + 1 / nB);
  const seq = sequentialLook(state, key, est.diff, variance, tau * tau);
  return {
    result: {
      ...base,
      diff: z.diff,
      ci95: [z.ci95[0], z.ci95[1]],
      z: -z.z, // statsmodels' z is control − treatment; ours reads in the same direction as diff
      chi2: chi.statistic,
      p_value: z.pvalue,
      significant: z.pvalue < alpha,
      always_valid_p_value: seq.p,
      sequential_significant: seq.p !== null && seq.p < alpha,
    },
    state: seq.state,
  };
}

function compareMeans(a: Moments, b: Moments, tau: number, alpha: number, state: SequentialState, key: string): { result: MeanComparison; state: SequentialState } {
  const base = {
    control: { n: a.n, mean: a.n ? a.mean : null, sd: a.n > 1 ? Math.sqrt(a.variance) : null },
    treatment: { n: b.n, mean: b.n ? b.mean : null, sd: b.n > 1 ? Math.sqrt(b.variance) : null },
  };
  const se2 = a.n > 1 && b.n > 1 ? a.variance / a.n + b.variance / b.n : 0;
  if (se2 <= 0) {
    const diff = a.n && b.n ? b.mean - a.mean : null;
    const prev = state[key]?.p ?? (diff === null ? null : 1);
    return { result: { ...base, diff, ci95: null, t: null, df: null, p_value: null, significant: false, always_valid_p_value: prev, sequential_significant: prev !== null && prev < alpha }, state };
  }
  const w = welchTTestFromStats({ mean: a.mean, variance: a.variance, n: a.n }, { mean: b.mean, variance: b.variance, n: b.n });
  const seq = sequentialLook(state, key, w.diff, se2, tau * tau);
  return {
    result: {
      ...base,
      diff: w.diff,
      ci95: [w.ci95[0], w.ci95[1]],
      t: -w.t, // SciPy's t is control − treatment; ours reads in the same direction as diff
      df: w.df,
      p_value: w.pvalue,
      significant: w.pvalue < alpha,
      always_valid_p_value: seq.p,
      sequential_significant: seq.p !== null && seq.p < alpha,
    },
    state: seq.state,
  };
}

function p95(latencies: number[]): number | null {
  if (!latencies.length) return null;
  return quantileLinear(Float64Array.from(latencies).sort(), 0.95);
}

function summary(v: VariantStats, versionId: string, version: string): VariantSummary {
  return {
    version_id: versionId,
    version,
    predictions: v.predictions,
    errors: v.errors,
    error_rate: rate(v.errors, v.predictions),
    labelled: v.labelled,
    accuracy: rate(v.correct, v.labelled),
    mean_confidence: v.confidence.n ? v.confidence.mean : null,
    mean_latency_ms: v.latency.n ? v.latency.mean : null,
    p95_latency_ms: p95(v.latencies),
  };
}

/** Sample size per variant for the primary metric, when it is a proportion. */
function requiredPerVariant(metric: TestMetric, successes: number, n: number, test: AbTest): number | null {
  if ((metric !== 'accuracy' && metric !== 'error_rate') || n === 0) return null;
  // The control's rate, smoothed by half an observation so that 0 / n and n / n stay inside (0, 1);
  // a rate too close to 1 for `+ mde` is compared with one `mde` below it.
  const baseline = (successes + 0.5) / (n + 1);
  const mde = baseline + test.config.mde < 1 ? test.config.mde : -test.config.mde;
  if (baseline + mde <= 0) return null;
  return requiredSampleSize(baseline, mde, { alpha: test.config.alpha, power: test.config.power });
}

export function analyseTest(test: AbTest, obs: TestObservations, previous: SequentialState, now = new Date()): AbTestReport {
  const { alpha, mde } = test.config;
  const c = obs.control;
  const t = obs.treatment;
  let state = previous;

  const accuracy = compareProportions(c.correct, c.labelled, t.correct, t.labelled, mde, alpha, state, 'accuracy');
  state = accuracy.state;
  const errors = compareProportions(c.errors, c.predictions, t.errors, t.predictions, mde, alpha, state, 'error_rate');
  state = errors.state;
  const confidence = compareMeans(c.confidence, t.confidence, mde, alpha, state, 'confidence');
  state = confidence.state;
  // Mean latency: an effect of interest is `latency_tolerance` of the control's mean.
  const latency = compareMeans(c.latency, t.latency, test.config.latency_tolerance * (c.latency.mean || 1), alpha, state, 'latency');
  state = latency.state;

  // The p95 tail: count each variant's predictions slower than the control's p95 and compare shares.
  const cP95 = p95(c.latencies);
  const tP95 = p95(t.latencies);
  const slower = (xs: number[]) => (cP95 === null ? 0 : xs.reduce((k, x) => k + (x > cP95 ? 1 : 0), 0));
  const tail = compareProportions(slower(c.latencies), c.latencies.length, slower(t.latencies), t.latencies.length, 0.05, alpha, state, 'latency_p95');
  state = tail.state;

  let sampleRatio: AbTestReport['sample_ratio'] = null;
  if (test.mode !== 'shadow' && test.traffic_split > 0 && test.traffic_split < 1) {
    const observed: [number, number] = [c.since_split, t.since_split];
    const expected: [number, number] = [1 - test.traffic_split, test.traffic_split];
    if (observed[0] + observed[1] > 0) {
      const srm = sampleRatioMismatch(observed, expected);
      sampleRatio = { observed, expected_share: expected, statistic: srm.statistic, p_value: srm.pvalue, mismatch: srm.mismatch };
    } else sampleRatio = { observed, expected_share: expected, statistic: null, p_value: null, mismatch: false };
  }

  const control = summary(c, test.control_version_id, test.control_version);
  const treatment = summary(t, test.treatment_version_id, test.treatment_version);
  const baseline = test.metric === 'error_rate' ? control.error_rate : test.metric === 'accuracy' ? control.accuracy : null;
  const perVariant = (v: VariantStats) => (test.metric === 'accuracy' ? v.labelled : v.predictions);

  return {
    test_id: test.id,
    evaluated_at: now.toISOString(),
    elapsed_s: Math.max(0, (now.getTime() - Date.parse(test.created_at)) / 1000),
    alpha,
    primary_metric: test.metric,
    control,
    treatment,
    accuracy: accuracy.result,
    error_rate: errors.result,
    confidence: confidence.result,
    latency: latency.result,
    latency_p95: { control_p95_ms: cP95, treatment_p95_ms: tP95, ratio: cP95 && tP95 !== null ? tP95 / cP95 : null, above_control_p95: tail.result },
    agreement: obs.agreement ? { n: obs.agreement.n, rate: rate(obs.agreement.agree, obs.agreement.n) } : null,
    sample_ratio: sampleRatio,
    sample_size: {
      metric: test.metric,
      baseline,
      mde,
      alpha,
      power: test.config.power,
      required_per_variant: test.metric === 'accuracy' ? requiredPerVariant('accuracy', c.correct, c.labelled, test) : requiredPerVariant(test.metric, c.errors, c.predictions, test),
      min_samples: test.config.min_samples,
      current_per_variant: { control: perVariant(c), treatment: perVariant(t) },
    },
    sequential_state: state,
  };
}

/** The comparison that decides a promotion, and whether larger is better for it. */
export function primaryComparison(report: AbTestReport): { comparison: ProportionComparison | MeanComparison; higherIsBetter: boolean } {
  switch (report.primary_metric) {
    case 'accuracy':
      return { comparison: report.accuracy, higherIsBetter: true };
    case 'error_rate':
      return { comparison: report.error_rate, higherIsBetter: false };
    case 'confidence':
      return { comparison: report.confidence, higherIsBetter: true };
    case 'latency':
      return { comparison: report.latency, higherIsBetter: false };
  }
}
