/**
 * The training-data profile stored with each model version: a bounded, seeded sample per feature
 * (the drift baseline for two-sample tests) plus summaries that describe the data at a glance.
 */
import type { CbpeModel } from './cbpe.js';
import { mulberry32 } from './random.js';

export type FeatureValue = number | string | boolean | null | undefined;

export interface NumericSummary {
  type: 'numeric';
  count: number;
  missing: number;
  /** ±Infinity values: counted, kept out of the summaries and the sample */
  non_finite?: number;
  /** values that are not numbers at all (e.g. "n/a" in a numeric column) */
  invalid?: number;
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
  /** CBPE fitted on labelled evaluation data (binary models): accuracy and ROC AUC before labels arrive */
  cbpe?: CbpeModel;
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
export function quantileSorted(sorted: ArrayLike<number>, q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo);
}

export function summariseNumeric(values: number[], missing = 0, bins = 10): NumericSummary {
  // A typed array sorts numerically in native code, several times faster than a comparator sort.
  const sorted = Float64Array.from(values).sort();
  const n = sorted.length;
  let sum = 0;
  for (let i = 0; i < n; i++) sum += sorted[i]!;
  const mean = n ? sum / n : Number.NaN;
  let squares = 0;
  for (let i = 0; i < n; i++) squares += (sorted[i]! - mean) ** 2;
  const variance = n > 1 ? squares / (n - 1) : 0;
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

/** Missing: null, undefined, NaN, an empty string or a "nan"/"null"/"na" token. */
export function isMissingValue(v: unknown): boolean {
  if (v === null || v === undefined) return true;
  if (typeof v === 'number') return Number.isNaN(v);
  if (typeof v === 'string') return /^\s*(|nan|null|none|na|n\/a)\s*$/i.test(v);
  return false;
}

/**
 * A value read as a number: finite numbers, booleans (0/1), numeric strings and the infinity tokens
 * ("inf", "-Infinity", …); `null` when it is no number. Callers check `isMissingValue` first.
 */
export function asNumber(v: unknown): number | null {
  if (typeof v === 'number') return v;
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (typeof v !== 'string') return null;
  const t = v.trim();
  if (/^[+]?inf(inity)?$/i.test(t)) return Infinity;
  if (/^-inf(inity)?$/i.test(t)) return -Infinity;
  if (t === '') return null;
  const n = Number(t);
  return Number.isNaN(n) ? null : n;
}

/** The category a value falls in: booleans as "true"/"false", numbers in their shortest form. */
export function categoryOf(v: unknown): string {
  return typeof v === 'string' ? v : String(v);
}

export type ColumnType = 'numeric' | 'categorical';

export interface ColumnTypeOptions {
  /** integer columns with at most this many distinct values are categorical (default 10, as Evidently) */
  maxIntegerCategories?: number;
  /** share of the non-missing values that must read as numbers for a numeric column (default 0.9) */
  minNumericShare?: number;
}

/**
 * The type of a column from its values: categorical when it holds booleans, when fewer than
 * `minNumericShare` of its non-missing values read as numbers (strings), or when every finite
 * value is an integer and there are at most `maxIntegerCategories` distinct ones (codes such as
 * 0/1 or 1..5, for which KS is wrong and Wasserstein distances on arbitrary codes mean nothing);
 * numeric otherwise. Non-numeric values in a numeric column are counted as invalid, never dropped.
 */
export function inferColumnType(values: readonly unknown[], options: ColumnTypeOptions = {}): ColumnType {
  const maxCats = options.maxIntegerCategories ?? 10;
  const minShare = options.minNumericShare ?? 0.9;
  let present = 0;
  let numeric = 0;
  const distinct = new Set<number>();
  let integers = true;
  for (const v of values) {
    if (isMissingValue(v)) continue;
    present++;
    if (typeof v === 'boolean') return 'categorical';
    const n = asNumber(v);
    if (n === null) continue;
    numeric++;
    if (!Number.isFinite(n)) continue;
    if (!Number.isInteger(n)) integers = false;
    else if (distinct.size <= maxCats) distinct.add(n);
  }
  if (present === 0) return 'numeric';
  if (numeric < minShare * present) return 'categorical';
  if (integers && distinct.size > 0 && distinct.size <= maxCats) return 'categorical';
  return 'numeric';
}

/**
 * Builds a profile from rows of named feature values. Column types: `categorical` lists columns
 * forced categorical, `numeric` columns forced numeric; the rest by `inferColumnType`.
 * Missing values (null, NaN, "") and non-finite numbers are counted in the summary.
 */
export function buildReferenceProfile(rows: Array<Record<string, FeatureValue>>, options: ProfileOptions = {}): ReferenceProfile {
  const names = options.features ?? Object.keys(rows[0] ?? {});
  return buildReferenceProfileOfColumns((name) => rows.map((r) => r[name]), rows.length, { ...options, features: names });
}

export type ProfileOptions = { features?: string[]; categorical?: string[]; numeric?: string[]; maxSample?: number; seed?: number } & ColumnTypeOptions;

/** `buildReferenceProfile` of data held as columns (`columnOf(name)`, each `rowCount` long): the CLI reads CSVs that way. */
export function buildReferenceProfileOfColumns(columnOf: (name: string) => readonly unknown[], rowCount: number, options: ProfileOptions & { features: string[] }): ReferenceProfile {
  const names = options.features;
  const maxSample = options.maxSample ?? 1000;
  const forcedCat = new Set(options.categorical ?? []);
  const forcedNum = new Set(options.numeric ?? []);

  // Reservoir sampling (Algorithm R) keeps the sample uniform over all rows.
  const random = mulberry32(options.seed ?? 42);
  const sampleIdx: number[] = [];
  for (let i = 0; i < rowCount; i++) {
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
    const column = columnOf(name);
    const isCat = forcedCat.has(name) || (!forcedNum.has(name) && inferColumnType(column, options) === 'categorical');
    let missing = 0;
    if (isCat) {
      const present: string[] = [];
      for (const v of column) {
        if (isMissingValue(v)) missing++;
        else present.push(categoryOf(v));
      }
      features[name] = summariseCategorical(present, missing);
    } else {
      const finite: number[] = [];
      let nonFinite = 0;
      let invalid = 0;
      for (const v of column) {
        if (isMissingValue(v)) {
          missing++;
          continue;
        }
        const n = asNumber(v);
        if (n === null) invalid++;
        else if (Number.isFinite(n)) finite.push(n);
        else nonFinite++;
      }
      features[name] = { ...summariseNumeric(finite, missing), non_finite: nonFinite, invalid };
    }
    sample[name] = sampleIdx.map((i) => {
      const v = column[i];
      if (isMissingValue(v)) return null;
      if (isCat) return categoryOf(v);
      const n = asNumber(v);
      return n !== null && Number.isFinite(n) ? n : null;
    });
  }
  return { n_rows: rowCount, sample_size: sampleIdx.length, features, sample };
}
