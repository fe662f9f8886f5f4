/**
 * Two-sample Kolmogorov–Smirnov test, matching `scipy.stats.ks_2samp` (SciPy >= 1.11) for the
 * two-sided alternative.
 *
 * - Statistic: D = max_x |F_a(x) - F_b(x)| over the pooled sample, with both ECDFs evaluated
 *   right-continuously (so tied values are stepped over together, as `searchsorted(side='right')`).
 * - `method: 'auto'` (default) uses the exact null distribution when max(n1, n2) <= 10,000
 *   (SciPy's MAX_AUTO_N) and the asymptotic one otherwise. `'exact'` is honoured for any size
 *   unless lcm(n1, n2) would not fit SciPy's int32 bound, in which case it falls back to
 *   `'asymp'` like SciPy (which also warns). If the exact recursion fails numerically
 *   (result outside [0, 1]) it also falls back to `'asymp'`, as SciPy does.
 * - Exact p-value: with g = gcd(n1, n2), lcm = n1 n2 / g and h = round(D * lcm), D is snapped to
 *   h / lcm and P(D >= h/lcm) is
 *     n1 == n2: the closed-form alternating sum 2 * sum_k (-1)^(k-1) C(2n, n - k h) / C(2n, n),
 *               evaluated in a Horner-like nested product so there is no cancellation;
 *     otherwise: Hodges' lattice-path "inside method" run directly on the probability of having
 *               left the band |x/n1 - y/n2| < h/lcm (Viehmann 2021), column by column over the
 *               in-band window of width about 2 * D * min(n1, n2): O(max(n) * min(D * min(n), min(n))).
 *   Working on the reduced lattice (n/g) keeps all the band arithmetic in small integers.
 * - Asymptotic p-value: `kstwo.sf(D, round(n1 n2 / (n1 + n2)))` (see `kolmogorov.ts`).
 *
 * Inputs are sorted once (typed-array sort) and merged in O(n log n).
 */
import { kstwoSf } from './kolmogorov.js';
import { gcd, isSortedSample, roundHalfEven } from './special.js';

export type KsMethod = 'auto' | 'exact' | 'asymp';

export interface KsTwoSampleOptions {
  /** 'auto' (default): exact if max(n1, n2) <= 10,000, else asymptotic. */
  method?: KsMethod;
  /** Only the two-sided alternative is implemented. */
  alternative?: 'two-sided';
}

export interface KsTwoSampleResult {
  /** max |ECDF_a - ECDF_b| (snapped to a multiple of 1/lcm(n1, n2) on the exact path, as SciPy). */
  statistic: number;
  pvalue: number;
  /** The method actually used (after any fallback). */
  method: 'exact' | 'asymp';
}

/** SciPy's MAX_AUTO_N: 'auto' attempts the exact distribution up to this sample size. */
export const KS_MAX_AUTO_N = 10_000;
const INT32_MAX = 2 ** 31 - 1;

/** A sorted copy, checked; a Float64Array already in order (a caller's sample sorted once for several tests) is used as it is. */
function sortedCopy(values: readonly number[] | Float64Array, what: string): Float64Array {
  if (values instanceof Float64Array && isSortedSample(values, false)) return values;
  const out = new Float64Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (typeof v !== 'number' || Number.isNaN(v)) {
      throw new RangeError(`ksTwoSample: ${what}[${i}] is not a number (${String(v)}); drop missing values first`);
    }
    out[i] = v;
  }
  return out.sort();
}

/**
 * The two one-sided extremes of F_a - F_b over the pooled sample of two sorted arrays:
 * maxS = max(F_a - F_b) and minS = max(0, -min(F_a - F_b)).
 */
export function ksExtremes(a: Float64Array, b: Float64Array): { maxS: number; minS: number } {
  const n1 = a.length;
  const n2 = b.length;
  let i = 0;
  let j = 0;
  let maxDiff = -Infinity;
  let minDiff = Infinity;
  // Every a[i] / b[j] read is guarded by i < n1 / j < n2, or by the loop condition when the other
  // sample is exhausted (i >= n1 implies j < n2).
  while (i < n1 || j < n2) {
    const v = i < n1 && (j >= n2 || a[i]! <= b[j]!) ? a[i]! : b[j]!;
    while (i < n1 && a[i]! <= v) i++;
    while (j < n2 && b[j]! <= v) j++;
    const diff = i / n1 - j / n2;
    if (diff > maxDiff) maxDiff = diff;
    if (diff < minDiff) minDiff = diff;
  }
  return { maxS: maxDiff, minS: Math.min(Math.max(-minDiff, 0), 1) };
}

/**
 * P(D_{n,n} >= h/n) for two samples of equal size n:
 * 2 * (C(2n, n-h) - C(2n, n-2h) + C(2n, n-3h) - ...) / C(2n, n), with each ratio of binomials
 * expanded as a product of h factors and the alternating sum nested (Horner) to avoid cancellation.
 */
export function ksProbOutsideSquare(n: number, h: number): number {
  let P = 0;
  for (let k = Math.floor(n / h); k >= 0; k--) {
    let p1 = 1;
    const kh = k * h;
    for (let j = 0; j < h; j++) p1 = ((n - kh - j) * p1) / (n + kh + j + 1);
    P = p1 * (1 - P);
  }
  return 2 * P;
}

/**
 * P(D_{m,n} >= h / lcm(m, n)): the share of monotone lattice paths from (0,0) to (m,n) that touch
 * or leave the band |x/m - y/n| < h/lcm. Column by column (x = 1..m), A[y] holds the probability
 * that a uniformly random path to (x, y) has already left the band: cells outside the band are 1,
 * and a cell inside is the average of its two predecessors weighted by x/(x+y) and y/(x+y):
 *   A_x[y] = (A_{x-1}[y] * x + A_x[y-1] * y) / (x + y)
 * This is SciPy's `_compute_outer_prob_inside_method` recursion (Hodges' inside method rewritten
 * for 1 - p, Viehmann 2021) with the same operations in the same order, so the results agree with
 * SciPy to the last bit. Only the in-band window [lo(x), hi(x)) of each column is computed; both
 * ends only move up, so one array indexed by y, updated in place, is enough.
 *
 * Speed: a column is a serial chain of divisions, so four adjacent columns are swept together
 * (column x+1 at row y needs column x at row y, computed just before): the four dependency chains
 * overlap in the CPU, about 2x faster than one column at a time. The worst case (D near 1 with
 * n1 != n2 ~ 10,000) is n1 * n2 = 1e8 cells, about 0.2 s.
 */
export function ksProbOutsideBand(m: number, n: number, g: number, h: number): number {
  if (m < n) [m, n] = [n, m];
  const mg = m / g;
  const ng = n / g;
  const lo = (x: number) => Math.min(Math.max(Math.floor((ng * x - h) / mg) + 1, 0), n);
  const hi = (x: number) => Math.min(Math.ceil((ng * x + h) / mg), n + 1);
  // Invariant: A[y] = 1 (outside the band) for every y at or above the last column's window.
  // A has n + 2 entries and every row index used is below hi(x) <= n + 1.
  const A = new Float64Array(n + 2).fill(1);
  A.fill(0, 0, Math.min(Math.ceil(h / mg), n + 1));
  let x = 1;
  for (; x + 3 <= m; x += 4) {
    const x1 = x;
    const x2 = x + 1;
    const x3 = x + 2;
    const x4 = x + 3;
    const l1 = lo(x1);
    const h1 = hi(x1);
    const l2 = lo(x2);
    const h2 = hi(x2);
    const l3 = lo(x3);
    const h3 = hi(x3);
    const l4 = lo(x4);
    const h4 = hi(x4);
    if (h1 <= l1 || h2 <= l2 || h3 <= l3 || h4 <= l4) return 1;
    // value just below each window: 0 at y = -1 (the path starts inside), 1 otherwise (outside)
    let v1 = l1 === 0 ? 0 : 1;
    let v2 = l2 === 0 ? 0 : 1;
    let v3 = l3 === 0 ? 0 : 1;
    let v4 = l4 === 0 ? 0 : 1;
    for (let y = l1; y < h4; y++) {
      // c carries column x+t at row y to column x+t+1 (1 above column x+t's window).
      // Rows below column x+t's window are never needed by later columns (lo only moves up).
      let c = A[y]!;
      if (y < h1) c = v1 = (c * x1 + v1 * y) / (x1 + y);
      else c = 1;
      if (y >= l2) {
        if (y < h2) c = v2 = (c * x2 + v2 * y) / (x2 + y);
        else c = 1;
      }
      if (y >= l3) {
        if (y < h3) c = v3 = (c * x3 + v3 * y) / (x3 + y);
        else c = 1;
      }
      if (y >= l4) A[y] = v4 = (c * x4 + v4 * y) / (x4 + y);
    }
  }
  for (; x <= m; x++) {
    const l1 = lo(x);
    const h1 = hi(x);
    if (h1 <= l1) return 1;
    let v1 = l1 === 0 ? 0 : 1;
    for (let y = l1; y < h1; y++) A[y] = v1 = (A[y]! * x + v1 * y) / (x + y);
  }
  return A[hi(m) - 1]!;
}

/** Exact two-sided p-value; `undefined` when the computation is not numerically usable. */
function exactPValue(n1: number, n2: number, g: number, d: number): { d: number; p: number | undefined } {
  const lcm = (n1 / g) * n2;
  const h = roundHalfEven(d * lcm);
  const dSnapped = h / lcm;
  if (h === 0) return { d: dSnapped, p: 1 };
  const p = n1 === n2 ? ksProbOutsideSquare(n1, h) : ksProbOutsideBand(n1, n2, g, h);
  if (!(p >= 0 && p <= 1)) return { d: dSnapped, p: undefined };
  return { d: dSnapped, p };
}

/**
 * Two-sample Kolmogorov–Smirnov test (two-sided), matching `scipy.stats.ks_2samp(a, b, method=...)`.
 * Throws on empty samples or NaN values (drop missing values first).
 */
export function ksTwoSample(a: readonly number[] | Float64Array, b: readonly number[] | Float64Array, options: KsTwoSampleOptions = {}): KsTwoSampleResult {
  const requested = options.method ?? 'auto';
  if (requested !== 'auto' && requested !== 'exact' && requested !== 'asymp') {
    throw new RangeError(`ksTwoSample: unknown method ${String(requested)}`);
  }
  if ((options.alternative ?? 'two-sided') !== 'two-sided') {
    throw new RangeError('ksTwoSample: only the two-sided alternative is implemented');
  }
  const n1 = a.length;
  const n2 = b.length;
  if (n1 === 0 || n2 === 0) throw new RangeError('ksTwoSample: samples must not be empty');
  const sa = sortedCopy(a, 'a');
  const sb = sortedCopy(b, 'b');
  const { maxS, minS } = ksExtremes(sa, sb);
  let d = Math.max(minS, maxS);

  const g = gcd(n1, n2);
  let method: 'exact' | 'asymp';
  if (requested === 'auto') method = Math.max(n1, n2) <= KS_MAX_AUTO_N ? 'exact' : 'asymp';
  else if (requested === 'exact') method = n1 / g >= INT32_MAX / (n2 / g) ? 'asymp' : 'exact';
  else method = 'asymp';

  let p = NaN;
  if (method === 'exact') {
    const exact = exactPValue(n1, n2, g, d);
    d = exact.d;
    if (exact.p === undefined) method = 'asymp';
    else p = exact.p;
  }
  if (method === 'asymp') {
    const en = (n1 * n2) / (n1 + n2);
    p = kstwoSf(d, roundHalfEven(en));
  }
  p = Math.min(Math.max(p, 0), 1);
  return { statistic: d, pvalue: p, method };
}
