/**
 * Welch's unequal-variance t-test for the difference of two means.
 *
 * Matches `scipy.stats.ttest_ind(a, b, equal_var=False)`:
 *   t = (mean(a) - mean(b)) / sqrt(va/na + vb/nb)     (sample variances, ddof = 1)
 *   df = (va/na + vb/nb)^2 / ((va/na)^2/(na-1) + (vb/nb)^2/(nb-1))   (Welch–Satterthwaite)
 *   p = 2 P(T_df >= |t|), from the incomplete beta function (accurate for tiny p).
 * Sign convention: `t` keeps SciPy's sign (a minus b); `diff` and `ci95` are for
 * mean(b) - mean(a) (treatment minus control) with the Welch df and the t quantile.
 * When both variances are 0 the standard error is 0 and, as in SciPy 1.17, t = ±inf with p = 0 when
 * the means differ (t and p NaN when they are equal), and df — 0/0 — is reported as 1; the interval
 * is the single point `diff`.
 */
import { tPpf, tTwoSidedPValue } from './student-t.js';

export interface SummaryStats {
  mean: number;
  /** sample variance (ddof = 1) */
  variance: number;
  n: number;
}

export interface WelchResult {
  /** (mean(a) - mean(b)) / se — SciPy's sign */
  t: number;
  df: number;
  pvalue: number;
  /** mean(b) - mean(a) */
  diff: number;
  /** 95% interval for mean(b) - mean(a) */
  ci95: [number, number];
  /** standard error of the difference */
  se: number;
}

/** Mean and sample variance (two-pass, ddof = 1). */
export function summaryStats(values: readonly number[]): SummaryStats {
  const n = values.length;
  let mean = 0;
  for (const v of values) {
    if (!Number.isFinite(v)) throw new RangeError(`summaryStats: non-finite value ${v}`);
    mean += v;
  }
  mean /= n;
  let ss = 0;
  for (const v of values) ss += (v - mean) ** 2;
  return { mean, variance: n > 1 ? ss / (n - 1) : NaN, n };
}

/** Welch's t-test from summary statistics (`scipy.stats.ttest_ind_from_stats(..., equal_var=False)`). */
export function welchTTestFromStats(a: SummaryStats, b: SummaryStats): WelchResult {
  for (const [name, s] of [
    ['a', a],
    ['b', b],
  ] as const) {
    if (!Number.isFinite(s.mean) || !Number.isFinite(s.variance) || s.variance < 0) {
      throw new RangeError(`welchTTest: ${name} needs a finite mean and a finite variance >= 0`);
    }
    if (!(s.n >= 2)) throw new RangeError(`welchTTest: ${name} needs at least 2 observations (got ${s.n})`);
  }
  const va = a.variance / a.n;
  const vb = b.variance / b.n;
  const se2 = va + vb;
  const se = Math.sqrt(se2);
  const rawDf = (se2 * se2) / ((va * va) / (a.n - 1) + (vb * vb) / (b.n - 1));
  // SciPy: "if df is undefined, variances are zero ... it doesn't matter what df is as long as it's not NaN"
  const df = Number.isNaN(rawDf) ? 1 : rawDf;
  const t = (a.mean - b.mean) / se; // ±inf or NaN when se = 0, as in SciPy
  const diff = b.mean - a.mean;
  const pvalue = tTwoSidedPValue(t, df);
  const half = se > 0 ? tPpf(0.975, df) * se : 0;
  return { t, df, pvalue, diff, ci95: [diff - half, diff + half], se };
}

/** Welch's t-test on two samples (`scipy.stats.ttest_ind(a, b, equal_var=False)`). */
export function welchTTest(a: readonly number[], b: readonly number[]): WelchResult {
  return welchTTestFromStats(summaryStats(a), summaryStats(b));
}
