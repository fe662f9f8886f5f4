/**
 * Pearson chi-square tests, matching SciPy:
 * - `chiSquareGoodnessOfFit` = `scipy.stats.chisquare(f_obs, f_exp)` (dof = k - 1 - ddof; the
 *   observed and expected totals must agree to a relative 1.49e-8, as SciPy checks);
 * - `chiSquareContingency` = `scipy.stats.chi2_contingency(table, correction)` (expected counts
 *   from the margins, dof = (r-1)(c-1), Yates' continuity correction when dof = 1 — i.e. 2x2 —
 *   and `correction` is true, the default; with dof = 0 the statistic is 0 and p = 1);
 * - `categoricalDrift`: the 2 x K test of homogeneity between reference and current category counts.
 * p-values are the chi-square upper tail from the upper incomplete gamma function (not 1 - cdf).
 */
import { assertCounts, chi2Sf } from './special.js';

export interface ChiSquareResult {
  statistic: number;
  pvalue: number;
  dof: number;
}

export interface ContingencyResult extends ChiSquareResult {
  /** expected counts under independence (row total * column total / grand total) */
  expected: number[][];
}

/**
 * Goodness-of-fit test of observed counts against expected counts (uniform when omitted).
 * `ddof` lowers the degrees of freedom (k - 1 - ddof) for parameters estimated from the data.
 */
export function chiSquareGoodnessOfFit(observed: readonly number[], expected?: readonly number[], options: { ddof?: number } = {}): ChiSquareResult {
  const k = observed.length;
  if (k === 0) throw new RangeError('chiSquareGoodnessOfFit: no categories');
  assertCounts(observed, 'observed');
  let exp: number[];
  const obsSum = observed.reduce((s, v) => s + v, 0);
  if (expected === undefined) {
    exp = new Array(k).fill(obsSum / k);
  } else {
    if (expected.length !== k) {
      throw new RangeError(`chiSquareGoodnessOfFit: ${k} observed vs ${expected.length} expected categories`);
    }
    assertCounts(expected, 'expected');
    exp = [...expected];
    const expSum = exp.reduce((s, v) => s + v, 0);
    const rtol = Math.sqrt(Number.EPSILON);
    if (Math.abs(obsSum - expSum) / Math.min(obsSum, expSum) > rtol) {
      throw new RangeError(`chiSquareGoodnessOfFit: observed total ${obsSum} and expected total ${expSum} differ ` + `by more than a relative ${rtol.toExponential(2)} (rescale the expected counts)`);
    }
  }
  let statistic = 0;
  // observed and exp both have k entries (checked above).
  for (let i = 0; i < k; i++) statistic += (observed[i]! - exp[i]!) ** 2 / exp[i]!;
  const dof = k - 1 - (options.ddof ?? 0);
  return { statistic, pvalue: chi2Sf(statistic, dof), dof };
}

/**
 * Chi-square test of independence / homogeneity on an r x c table of counts.
 * Throws (as SciPy does) when a row or column sums to zero, which makes an expected count zero.
 */
export function chiSquareContingency(table: readonly (readonly number[])[], options: { correction?: boolean } = {}): ContingencyResult {
  const correction = options.correction ?? true;
  const r = table.length;
  const first = table[0];
  if (first === undefined || first.length === 0) throw new RangeError('chiSquareContingency: empty table');
  const c = first.length;
  table.forEach((row, i) => {
    if (row.length !== c) throw new RangeError('chiSquareContingency: ragged table');
    assertCounts(row, `table[${i}]`);
  });
  // From here on the table is r x c (checked above) and so is `expected`: indices i < r, j < c are in range.
  const rowSums = table.map((row) => row.reduce((s, v) => s + v, 0));
  const colSums = new Array<number>(c).fill(0);
  for (const row of table) for (let j = 0; j < c; j++) colSums[j] = colSums[j]! + row[j]!;
  const total = rowSums.reduce((s, v) => s + v, 0);
  const expected = rowSums.map((rs) => colSums.map((cs) => (rs * cs) / total));
  for (let i = 0; i < r; i++) {
    for (let j = 0; j < c; j++) {
      if (!(expected[i]![j]! > 0)) {
        throw new RangeError(`chiSquareContingency: the expected frequency at (${i}, ${j}) is zero (a row or column sums to 0)`);
      }
    }
  }
  const dof = (r - 1) * (c - 1);
  if (dof === 0) return { statistic: 0, pvalue: 1, dof, expected };
  let statistic = 0;
  for (let i = 0; i < r; i++) {
    for (let j = 0; j < c; j++) {
      let o = table[i]![j]!;
      const e = expected[i]![j]!;
      if (dof === 1 && correction) {
        // Yates: move each observed count 0.5 towards its expected count, never past it.
        const diff = e - o;
        o += Math.sign(diff) * Math.min(0.5, Math.abs(diff));
      }
      statistic += (o - e) ** 2 / e;
    }
  }
  return { statistic, pvalue: chi2Sf(statistic, dof), dof, expected };
}

export interface CategoricalDriftResult extends ChiSquareResult {
  /** categories with a positive current count that never occur in the reference (sorted) */
  unseen_categories: string[];
  /** the categories that entered the test, in table column order */
  categories: string[];
}

/**
 * Drift of a categorical feature: chi-square test of homogeneity on the 2 x K table
 * [reference counts; current counts] over the union of categories (`chi2_contingency` semantics,
 * so with exactly two categories Yates' correction applies unless `correction: false`).
 *
 * Unseen categories (present now, absent from the reference) need no smoothing: in a test of
 * homogeneity a cell's expected count is row total * column total / N, which is positive for
 * every category seen in *either* sample, so a reference count of 0 is an ordinary observation
 * (and usually strong evidence of drift). The only zero expected counts come from
 *  - categories with zero count in both samples: they carry no information and are dropped;
 *  - an empty reference or current sample: no test is possible, so this throws.
 * Consequently no pseudo-counts are ever added and the statistic is exactly SciPy's on that table.
 * With a single remaining category the test is degenerate (dof 0): statistic 0, p-value 1.
 * Counts may be non-integer (e.g. shares times a row count); they must be finite and >= 0.
 */
export function categoricalDrift(referenceCounts: Readonly<Record<string, number>>, currentCounts: Readonly<Record<string, number>>, options: { correction?: boolean } = {}): CategoricalDriftResult {
  const keys = [...new Set([...Object.keys(referenceCounts), ...Object.keys(currentCounts)])].sort();
  const ref: number[] = [];
  const cur: number[] = [];
  const categories: string[] = [];
  const unseen: string[] = [];
  for (const k of keys) {
    const r = referenceCounts[k] ?? 0;
    const c = currentCounts[k] ?? 0;
    if (!Number.isFinite(r) || r < 0) throw new RangeError(`categoricalDrift: reference count of "${k}" is ${r}`);
    if (!Number.isFinite(c) || c < 0) throw new RangeError(`categoricalDrift: current count of "${k}" is ${c}`);
    if (r + c === 0) continue;
    categories.push(k);
    ref.push(r);
    cur.push(c);
    if (r === 0) unseen.push(k);
  }
  const refTotal = ref.reduce((s, v) => s + v, 0);
  const curTotal = cur.reduce((s, v) => s + v, 0);
  if (refTotal === 0 || curTotal === 0) {
    throw new RangeError('categoricalDrift: the reference and the current counts must both be non-empty');
  }
  const { statistic, pvalue, dof } = chiSquareContingency([ref, cur], options);
  return { statistic, pvalue, dof, unseen_categories: unseen, categories };
}
