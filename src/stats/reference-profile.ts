/**
 * The training-data profile stored with each model version: a bounded, seeded sample per feature
 * (the drift baseline for two-sample tests) plus summaries that describe the data at a glance.
 */
import { mulberry32 } from './random.js';

export type FeatureValue = number | string | boolean | null | undefined;

export interface NumericSummary {
  type: 'numeric';
  count: number;
  missing: number;
  mean: number;
  std: number;
  min: number;
  max: number;
  quantiles: Record<'p01' | 'p05' | 'p25' | 'p50' | 'p75' | 'p95' | 'p99', number>;
  histogram: { edges: number[]; counts: number[] };
}

export interface CategoricalSummary {
  type: 'categorical';
  count: number;
  missing: number;
  /** share of rows per category, summing to 1 over non-missing rows */
  frequencies: Record<string, number>;
}

export type FeatureSummary = NumericSummary | CategoricalSummary;

export interface ReferenceProfile {
  n_rows: number;
  sample_size: number;
  features: Record<string, FeatureSummary>;
  /** column-wise sample of at most `maxSample` rows, same row order across columns */
  sample: Record<string, Array<number | string | null>>;
  /** the model's own outputs on the reference data: the baseline of prediction drift and confidence */
  outputs?: OutputProfile;
}

export interface OutputProfile {
  /** share of each predicted label */
  label_frequencies: Record<string, number>;
  /** sample of the top-class probability (confidence), at most `maxSample` values */
  confidence: number[];
  mean_confidence: number;
}

/** Profiles a model's probability rows (columns in `labels` order). */
export function buildOutputProfile(probabilities: number[][], labels: string[], maxSample = 1000): OutputProfile {
  const counts: Record<string, number> = Object.fromEntries(labels.map((l) => [l, 0]));
  const confidence: number[] = [];
  for (const row of probabilities) {
    let best = 0;
    for (let j = 1; j < row.length; j++) if (row[j]! > row[best]!) best = j;
    counts[labels[best]!]! += 1;
    confidence.push(row[best]!);
  }
  const n = Math.max(1, probabilities.length);
  const step = Math.max(1, Math.ceil(confidence.length / maxSample));
  return {
    label_frequencies: Object.fromEntries(Object.entries(counts).map(([k, c]) => [k, c / n])),
    confidence: confidence.filter((_, i) => i % step === 0),
    mean_confidence: confidence.reduce((a, b) => a + b, 0) / n,
  };
}

/** Linear-interpolated quantile of sorted data (numpy's default "linear" method). */
export function quantileSorted(sorted: number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo);
}

export function summariseNumeric(values: number[], missing = 0, bins = 10): NumericSummary {
  const sorted = [...values].sort((a, b) => a - b);
  const n = sorted.length;
  const mean = n ? sorted.reduce((s, v) => s + v, 0) / n : Number.NaN;
  const variance = n > 1 ? sorted.reduce((s, v) => s + (v - mean) ** 2, 0) / (n - 1) : 0;
  const min = n ? sorted[0]! : Number.NaN;
  const max = n ? sorted[n - 1]! : Number.NaN;
  const edges = Array.from({ length: bins + 1 }, (_, i) => (n ? min + ((max - min) * i) / bins : 0));
  const counts = new Array<number>(bins).fill(0);
  for (const v of sorted) {
    const idx = max === min ? 0 : Math.min(bins - 1, Math.floor(((v - min) / (max - min)) * bins));
    counts[idx]! += 1;
  }
  const q = (p: number) => quantileSorted(sorted, p);
  return {
    type: 'numeric',
    count: n,
    missing,
    mean,
    std: Math.sqrt(variance),
    min,
    max,
    quantiles: { p01: q(0.01), p05: q(0.05), p25: q(0.25), p50: q(0.5), p75: q(0.75), p95: q(0.95), p99: q(0.99) },
    histogram: { edges, counts },
  };
}

export function summariseCategorical(values: string[], missing = 0): CategoricalSummary {
  const counts: Record<string, number> = {};
  for (const v of values) counts[v] = (counts[v] ?? 0) + 1;
  const frequencies = Object.fromEntries(Object.entries(counts).map(([k, c]) => [k, c / values.length]));
  return { type: 'categorical', count: values.length, missing, frequencies };
}

const isMissing = (v: FeatureValue) => v === null || v === undefined || (typeof v === 'number' && Number.isNaN(v));

/**
 * Builds a profile from rows of named feature values. A feature is categorical when listed in
 * `categorical` or when any of its values is a string; otherwise numeric (booleans count as 0/1).
 */
export function buildReferenceProfile(
  rows: Array<Record<string, FeatureValue>>,
  options: { features?: string[]; categorical?: string[]; maxSample?: number; seed?: number } = {},
): ReferenceProfile {
  const names = options.features ?? Object.keys(rows[0] ?? {});
  const maxSample = options.maxSample ?? 1000;
  const categorical = new Set(options.categorical ?? []);
  for (const name of names) if (rows.some((r) => typeof r[name] === 'string')) categorical.add(name);

  // Reservoir sampling (Algorithm R) keeps the sample uniform over all rows.
  const random = mulberry32(options.seed ?? 42);
  const sampleIdx: number[] = [];
  for (let i = 0; i < rows.length; i++) {
    if (sampleIdx.length < maxSample) sampleIdx.push(i);
    else {
      const j = Math.floor(random() * (i + 1));
      if (j < maxSample) sampleIdx[j] = i;
    }
  }
  sampleIdx.sort((a, b) => a - b);

  const features: Record<string, FeatureSummary> = {};
  const sample: ReferenceProfile['sample'] = {};
  for (const name of names) {
    const present = rows.map((r) => r[name]).filter((v) => !isMissing(v));
    const missing = rows.length - present.length;
    const isCat = categorical.has(name);
    features[name] = isCat
      ? summariseCategorical(present.map(String), missing)
      : summariseNumeric(present.map(Number), missing);
    sample[name] = sampleIdx.map((i) => {
      const v = rows[i]![name];
      if (isMissing(v)) return null;
      return isCat ? String(v) : Number(v);
    });
  }
  return { n_rows: rows.length, sample_size: sampleIdx.length, features, sample };
}
