/**
 * Data drift of a window of predictions against a version's reference profile. Pure: profile and
 * rows in, report out.
 *
 * The rule (documented in docs/monitoring.md):
 * - each feature gets its test (KS for numeric columns, chi-square of homogeneity for categorical
 *   ones) and its raw p-value;
 * - the p-values of all tested features are adjusted together with Holm's step-down method
 *   (default; `correction: 'bh'` for Benjamini–Hochberg), so the chance that a window with no drift
 *   at all raises the model-level alarm stays at `alpha` however many features the model has;
 * - a feature drifts when its *adjusted* p < alpha (0.05) AND the size of the change reaches
 *   DATA_DRIFT_THRESHOLD (0.1): Wasserstein distance in reference standard deviations (numeric),
 *   Jensen–Shannon distance base 2 (categorical);
 * - `drift_detected` (the model-level decision, and the alert) is true when any feature drifts.
 * Column types: the profile's, except that a numeric column whose reference sample holds only
 * integers with at most `maxIntegerCategories` distinct values is tested as categorical (codes);
 * `columnTypes` overrides both. Missing, non-finite and non-numeric values are counted per feature,
 * never thrown or silently dropped; a feature that cannot be tested is listed in `skipped` with why.
 */
// The modules themselves, not the stats index: `vitals drift` then loads no A/B or CBPE statistics.
import { categoricalDrift } from '../stats/chi-square.js';
import { categoricalPsi, jensenShannonDistance, normalisedWasserstein, populationStabilityIndex } from '../stats/distances.js';
import { ksTwoSample } from '../stats/ks-two-sample.js';
import { type PAdjustMethod, adjustPValues } from '../stats/multiple-testing.js';
import { type ColumnType, type FeatureSummary, type ReferenceProfile, asNumber, categoryOf, inferColumnType, isMissingValue } from '../stats/reference-profile.js';

export interface DriftOptions {
  threshold: number;
  alpha?: number;
  /** how p-values are adjusted across features: Holm (family-wise error, default) or Benjamini–Hochberg */
  correction?: PAdjustMethod;
  datasetDriftShare?: number;
  /** integer columns with at most this many distinct values are categorical (default 10) */
  maxIntegerCategories?: number;
  /** per-feature type overrides */
  columnTypes?: Record<string, ColumnType>;
}

/** What a window held for one feature: every row is in exactly one of these counts. */
export interface ValueCounts {
  rows: number;
  /** the values the test used */
  used: number;
  /** null, undefined, NaN, empty or a "nan"/"null" token */
  missing: number;
  /** ±Infinity (numeric features) */
  non_finite: number;
  /** not a number in a numeric feature */
  invalid: number;
}

export interface FeatureDrift {
  feature: string;
  type: ColumnType;
  test: 'ks' | 'chi2';
  statistic: number;
  /** the feature's own p-value */
  p_value: number;
  /** adjusted for the number of features tested (see `DriftResult.correction`) */
  p_value_adjusted: number;
  /** Wasserstein / reference std (numeric) or Jensen–Shannon distance (categorical) */
  effect: number;
  psi?: number;
  drifted: boolean;
  reference: { mean?: number; std?: number; shares?: Record<string, number>; n: number };
  current: { mean?: number; std?: number; shares?: Record<string, number>; missing: number; non_finite: number; invalid: number };
  counts: ValueCounts;
  /** the category whose share moved most (categorical features) */
  largest_shift?: { category: string; reference_share: number; current_share: number };
  unseen_categories?: string[];
}

export interface DriftResult {
  /** the model-level decision: at least one feature drifted after the multiple-testing adjustment */
  drift_detected: boolean;
  dataset_drift: boolean;
  drift_score: number;
  drifted_features: string[];
  feature_drifts: Record<string, FeatureDrift>;
  correction: { method: PAdjustMethod; alpha: number; tests: number };
  /** features in the profile that could not be tested in this window, and why */
  skipped: Array<{ feature: string; reason: string; counts: ValueCounts }>;
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
const countsOf = (values: string[]) => {
  const counts: Record<string, number> = {};
  for (const v of values) counts[v] = (counts[v] ?? 0) + 1;
  return counts;
};
const sharesOf = (counts: Record<string, number>) => {
  const total = Object.values(counts).reduce((a, b) => a + b, 0);
  return Object.fromEntries(Object.entries(counts).map(([k, c]) => [k, c / Math.max(1, total)]));
};

/** Splits raw values into numbers the test uses and counts of everything else. */
function readNumeric(raw: readonly unknown[]): { values: number[]; counts: ValueCounts } {
  const values: number[] = [];
  const counts: ValueCounts = { rows: raw.length, used: 0, missing: 0, non_finite: 0, invalid: 0 };
  for (const v of raw) {
    if (isMissingValue(v)) counts.missing++;
    else {
      const n = asNumber(v);
      if (n === null) counts.invalid++;
      else if (!Number.isFinite(n)) counts.non_finite++;
      else values.push(n);
    }
  }
  counts.used = values.length;
  return { values, counts };
}

function readCategorical(raw: readonly unknown[]): { values: string[]; counts: ValueCounts } {
  const values: string[] = [];
  let missing = 0;
  for (const v of raw) {
    if (isMissingValue(v)) missing++;
    else values.push(categoryOf(v));
  }
  return { values, counts: { rows: raw.length, used: values.length, missing, non_finite: 0, invalid: 0 } };
}

type Tested = Omit<FeatureDrift, 'p_value_adjusted' | 'drifted'>;

function numericDrift(feature: string, summary: FeatureSummary, reference: number[], current: number[], counts: ValueCounts): Tested {
  // Sorted once for the three tests (each would sort both samples again: most of a large check's time).
  const sorted = { reference: Float64Array.from(reference).sort(), current: Float64Array.from(current).sort() };
  const ks = ksTwoSample(sorted.reference, sorted.current);
  return {
    feature,
    type: 'numeric',
    test: 'ks',
    statistic: ks.statistic,
    p_value: ks.pvalue,
    effect: normalisedWasserstein(reference, current, sorted),
    psi: populationStabilityIndex(sorted.reference, sorted.current),
    reference: { mean: summary.type === 'numeric' ? summary.mean : mean(reference), std: summary.type === 'numeric' ? summary.std : std(reference), n: reference.length },
    current: { mean: mean(current), std: std(current), missing: counts.missing, non_finite: counts.non_finite, invalid: counts.invalid },
    counts,
  };
}

function categoricalFeatureDrift(feature: string, refCounts: Record<string, number>, current: string[], counts: ValueCounts): Tested {
  const refShares = sharesOf(refCounts);
  const curCounts = countsOf(current);
  const curShares = sharesOf(curCounts);
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
    psi: categoricalPsi(refCounts, curCounts),
    reference: { shares: refShares, n: Object.values(refCounts).reduce((a, b) => a + b, 0) },
    current: { shares: curShares, missing: counts.missing, non_finite: 0, invalid: 0 },
    counts,
    largest_shift: largest,
    unseen_categories: test.unseen_categories,
  };
}

/** The type a feature is tested as (see the module comment). */
export function featureType(feature: string, summary: FeatureSummary, profile: ReferenceProfile, options: Pick<DriftOptions, 'columnTypes' | 'maxIntegerCategories'>): ColumnType {
  const forced = options.columnTypes?.[feature];
  if (forced) return forced;
  if (summary.type === 'categorical') return 'categorical';
  return inferColumnType(profile.sample[feature] ?? [], { maxIntegerCategories: options.maxIntegerCategories });
}

/** Compares current feature values (rows of flattened inputs) with the reference profile. */
export function computeDataDrift(profile: ReferenceProfile, rows: Array<Record<string, unknown>>, options: DriftOptions): DriftResult {
  return computeDataDriftOfColumns(profile, (feature) => rows.map((r) => r[feature]), options);
}

/** `computeDataDrift` of current data held as columns (`columnOf(feature)`): the CLI reads CSVs that way. */
export function computeDataDriftOfColumns(profile: ReferenceProfile, columnOf: (feature: string) => readonly unknown[], options: DriftOptions): DriftResult {
  const alpha = options.alpha ?? 0.05;
  const method = options.correction ?? 'holm';
  const datasetDriftShare = options.datasetDriftShare ?? 0.5;
  const tested: Tested[] = [];
  const skipped: DriftResult['skipped'] = [];
  for (const [feature, summary] of Object.entries(profile.features)) {
    const raw = columnOf(feature);
    const type = featureType(feature, summary, profile, options);
    if (type === 'categorical') {
      const current = readCategorical(raw);
      const refCounts =
        summary.type === 'categorical'
          ? Object.fromEntries(Object.entries(summary.frequencies).map(([k, s]) => [k, s * (summary.count || 1)]))
          : countsOf(readCategorical(profile.sample[feature] ?? []).values);
      if (current.values.length === 0 || Object.keys(refCounts).length === 0) {
        skipped.push({ feature, reason: current.values.length === 0 ? 'no values in this window' : 'no reference values', counts: current.counts });
        continue;
      }
      tested.push(categoricalFeatureDrift(feature, refCounts, current.values, current.counts));
    } else {
      const current = readNumeric(raw);
      const reference = readNumeric(profile.sample[feature] ?? []).values;
      if (reference.length < 2 || current.values.length < 2) {
        const reason =
          current.values.length < 2
            ? `${current.values.length} usable value(s) in this window (missing ${current.counts.missing}, non-finite ${current.counts.non_finite}, not numeric ${current.counts.invalid})`
            : `${reference.length} finite reference value(s)`;
        skipped.push({ feature, reason, counts: current.counts });
        continue;
      }
      tested.push(numericDrift(feature, summary, reference, current.values, current.counts));
    }
  }
  const adjusted = tested.length
    ? adjustPValues(
        tested.map((t) => t.p_value),
        method,
      )
    : [];
  const feature_drifts: Record<string, FeatureDrift> = {};
  tested.forEach((t, i) => {
    const p = adjusted[i]!;
    feature_drifts[t.feature] = { ...t, p_value_adjusted: p, drifted: p < alpha && t.effect >= options.threshold };
  });
  const checked = Object.values(feature_drifts);
  const drifted = checked.filter((f) => f.drifted).map((f) => f.feature);
  const share = checked.length ? drifted.length / checked.length : 0;
  return {
    drift_detected: drifted.length > 0,
    dataset_drift: checked.length > 0 && share >= datasetDriftShare,
    drift_score: share,
    drifted_features: drifted,
    feature_drifts,
    correction: { method, alpha, tests: tested.length },
    skipped,
  };
}

const shares = (values: string[]) => sharesOf(countsOf(values));

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
  const test = categoricalDrift(Object.fromEntries(labels.map((l) => [l, (ref.label_frequencies[l] ?? 0) * refN])), Object.fromEntries(labels.map((l) => [l, (current[l] ?? 0) * predictions.length])));
  const js = jensenShannonDistance(
    labels.map((l) => ref.label_frequencies[l] ?? 0),
    labels.map((l) => current[l] ?? 0),
  );
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
