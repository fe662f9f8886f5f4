/**
 * Student-t tail and quantile (Welch's t-test). In a module of their own so that what does not test
 * means (`vitals drift`, the monitoring checks) does not load the incomplete beta and t quantile.
 */
import betainc from '@stdlib/math-base-special-betainc';
import tQuantile from '@stdlib/stats-base-dists-t-quantile';
import { normalPpf, normalTwoSidedPValue } from './special.js';

/**
 * Two-sided Student-t p-value 2 * P(T_df >= |t|), computed as the regularised incomplete beta
 * I_{df/(df+t^2)}(df/2, 1/2), which is the exact two-tail area with no `1 - cdf` cancellation.
 */
export function tTwoSidedPValue(t: number, df: number): number {
  if (Number.isNaN(t) || Number.isNaN(df) || df <= 0) return NaN;
  if (!Number.isFinite(t)) return 0;
  if (t === 0) return 1;
  if (df === Infinity) return normalTwoSidedPValue(t);
  const t2 = t * t;
  // For |t| small relative to sqrt(df) the complement argument t^2/(df+t^2) is more accurate.
  if (t2 < df) {
    const y = t2 / (df + t2);
    return betainc(y, 0.5, df / 2, true, true);
  }
  return betainc(df / (df + t2), df / 2, 0.5, true, false);
}

/** Student-t quantile. */
export function tPpf(p: number, df: number): number {
  if (df === Infinity) return normalPpf(p);
  return tQuantile(p, df);
}
