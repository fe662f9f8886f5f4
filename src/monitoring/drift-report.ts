/**
 * Data drift of a window of predictions against a version's reference profile. Pure: profile and
 * rows in, report out.
 *
 * The rule (documented in docs/monitoring.md): a feature drifts when its distribution test is
 * significant (p < alpha, default 0.05) AND the size of the change reaches DATA_DRIFT_THRESHOLD
 * (default 0.1): the Wasserstein distance in units of the reference standard deviation for numeric
 * features, the Jensen–Shannon distance (base 2) for categorical ones. Requiring both keeps large
 * windows from flagging trivial shifts and small windows from flagging noise. The drift score is the
 * share of drifted features; the dataset drifts when that share reaches `datasetDriftShare` (0.5).
 */
import { categoricalDrift, jensenShannonDistance, ksTwoSample, normalisedWasserstein, populationStabilityIndex } from '../stats/index.js';
import type { FeatureSummary, ReferenceProfile } from '../stats/reference-profile.js';

export interface DriftOptions {
  threshold: number;
  alpha?: number;
  datasetDriftShare?: number;
}

export interface FeatureDrift {
  feature: string;
  type: 'numeric' | 'categorical';
  test: 'ks' | 'chi2';
  statistic: number;
  p_value: number;
  /** Wasserstein / reference std (numeric) or Jensen–Shannon distance (categorical) */
  effect: number;
  psi?: number;
  drifted: boolean;
  reference: { mean?: number; std?: number; shares?: Record<string, number> };
  current: { mean?: number; std?: number; shares?: Record<string, number>; missing: number };
  /** the category whose share moved most (categorical features) */
  largest_shift?: { category: string; reference_share: number; current_share: number };
  unseen_categories?: string[];
}

export interface DriftResult {
  drift_detected: boolean;
  dataset_drift: boolean;
  drift_score: number;
  drifted_features: string[];
  feature_drifts: Record<string, FeatureDrift>;
}

/** Flattens nested inputs ({image: {width: 3}} → {"image.width": 3}) so any logged input can be compared. */
export function flattenInput(input: unknown, prefix = '', out: Record<string, unknown> = {}): Record<string, unknown> {
  if (input && typeof input === 'object' && !Array.isArray(input)) {
    for (const [k, v] of Object.entries(input)) flattenInput(v, prefix ? `${prefix}.${k}` : k, out);
  } else if (prefix) out[prefix] = input;
  return out;
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
const std = (xs: number[]) => {
  const m = mean(xs);
  return Math.sqrt(xs.reduce((a, b) => a + (b - m) ** 2, 0) / Math.max(1, xs.length - 1));
};
const shares = (values: string[]) => {
  const counts: Record<string, number> = {};
  for (const v of values) counts[v] = (counts[v] ?? 0) + 1;
  return Object.fromEntries(Object.entries(counts).map(([k, c]) => [k, c / Math.max(1, values.length)]));
};

function numericDrift(feature: string, summary: FeatureSummary, reference: number[], current: number[], missing: number, o: Required<DriftOptions>): FeatureDrift {
  const ks = ksTwoSample(reference, current);
  const effect = normalisedWasserstein(reference, current);
  return {
    feature,
    type: 'numeric',
    test: 'ks',
    statistic: ks.statistic,
    p_value: ks.pvalue,
    effect,
    psi: populationStabilityIndex(reference, current),
    drifted: ks.pvalue < o.alpha && effect >= o.threshold,
    reference: { mean: summary.type === 'numeric' ? summary.mean : mean(reference), std: summary.type === 'numeric' ? summary.std : std(reference) },
    current: { mean: mean(current), std: std(current), missing },
  };
}

function categoricalFeatureDrift(feature: string, summary: FeatureSummary, current: string[], missing: number, o: Required<DriftOptions>): FeatureDrift {
  const refShares = summary.type === 'categorical' ? summary.frequencies : {};
  const refCount = summary.count || 1;
  const refCounts = Object.fromEntries(Object.entries(refShares).map(([k, s]) => [k, s * refCount]));
  const curShares = shares(current);
  const curCounts = Object.fromEntries(Object.entries(curShares).map(([k, s]) => [k, s * current.length]));
  const test = categoricalDrift(refCounts, curCounts);
  const categories = [...new Set([...Object.keys(refShares), ...Object.keys(curShares)])];
  const effect = jensenShannonDistance(
    categories.map((c) => refShares[c] ?? 0),
    categories.map((c) => curShares[c] ?? 0),
  );
  let largest: FeatureDrift['largest_shift'];
  for (const c of categories) {
    const shift = (curShares[c] ?? 0) - (refShares[c] ?? 0);
    if (!largest || Math.abs(shift) > Math.abs(largest.current_share - largest.reference_share)) {
      largest = { category: c, reference_share: refShares[c] ?? 0, current_share: curShares[c] ?? 0 };
    }
  }
  return {
    feature,
    type: 'categorical',
    test: 'chi2',
    statistic: test.statistic,
    p_value: test.pvalue,
    effect,
    drifted: test.pvalue < o.alpha && effect >= o.threshold,
    reference: { shares: refShares },
    current: { shares: curShares, missing },
    largest_shift: largest,
    unseen_categories: test.unseen_categories,
  };
}

/** Compares current feature values (rows of flattened inputs) with the reference profile. */
export function computeDataDrift(profile: ReferenceProfile, rows: Array<Record<string, unknown>>, options: DriftOptions): DriftResult {
  const o = { alpha: 0.05, datasetDriftShare: 0.5, ...options };
  const feature_drifts: Record<string, FeatureDrift> = {};
  for (const [feature, summary] of Object.entries(profile.features)) {
    const raw = rows.map((r) => r[feature]);
    const present = raw.filter((v) => v !== null && v !== undefined && v !== '');
    const missing = raw.length - present.length;
    if (present.length === 0) continue; // not logged for this window (e.g. a feature the caller never sends)
    if (summary.type === 'categorical') {
      feature_drifts[feature] = categoricalFeatureDrift(feature, summary, present.map(String), missing, o);
    } else {
      const reference = (profile.sample[feature] ?? []).filter((v): v is number => typeof v === 'number');
      const current = present.map(Number).filter(Number.isFinite);
      if (reference.length < 2 || current.length < 2) continue;
      feature_drifts[feature] = numericDrift(feature, summary, reference, current, missing, o);
    }
  }
  const checked = Object.values(feature_drifts);
  const drifted = checked.filter((f) => f.drifted).map((f) => f.feature);
  const share = checked.length ? drifted.length / checked.length : 0;
  return {
    drift_detected: drifted.length > 0,
    dataset_drift: checked.length > 0 && share >= o.datasetDriftShare,
    drift_score: share,
    drifted_features: drifted,
    feature_drifts,
  };
}

export interface OutputDrift {
  /** chi-square of predicted-label counts against the reference label shares */
  prediction_drift: { statistic: number; p_value: number; js_distance: number; drifted: boolean; reference: Record<string, number>; current: Record<string, number> } | null;
  /** KS of current confidences against the reference's; degraded when mean confidence fell by ≥ threshold */
  confidence: { reference_mean: number; current_mean: number; ks_statistic: number; p_value: number; degraded: boolean } | null;
}

export function computeOutputDrift(profile: ReferenceProfile | null, predictions: string[], confidences: number[], options: DriftOptions): OutputDrift {
  const o = { alpha: 0.05, ...options };
  const ref = profile?.outputs;
  if (!ref || predictions.length === 0) return { prediction_drift: null, confidence: null };
  const current = shares(predictions);
  const labels = [...new Set([...Object.keys(ref.label_frequencies), ...Object.keys(current)])];
  const refN = profile.n_rows || ref.confidence.length || 1;
  const test = categoricalDrift(
    Object.fromEntries(labels.map((l) => [l, (ref.label_frequencies[l] ?? 0) * refN])),
    Object.fromEntries(labels.map((l) => [l, (current[l] ?? 0) * predictions.length])),
  );
  const js = jensenShannonDistance(labels.map((l) => ref.label_frequencies[l] ?? 0), labels.map((l) => current[l] ?? 0));
  let confidence: OutputDrift['confidence'] = null;
  if (confidences.length >= 2 && ref.confidence.length >= 2) {
    const ks = ksTwoSample(ref.confidence, confidences);
    const currentMean = mean(confidences);
    confidence = {
      reference_mean: ref.mean_confidence,
      current_mean: currentMean,
      ks_statistic: ks.statistic,
      p_value: ks.pvalue,
      degraded: ks.pvalue < o.alpha && ref.mean_confidence - currentMean >= o.threshold / 2,
    };
  }
  return {
    prediction_drift: { statistic: test.statistic, p_value: test.pvalue, js_distance: js, drifted: test.pvalue < o.alpha && js >= o.threshold, reference: ref.label_frequencies, current },
    confidence,
  };
}
