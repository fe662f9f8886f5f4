/**
 * Distribution distances for drift monitoring.
 *
 * - `populationStabilityIndex`: PSI = sum_i (c_i - r_i) * ln(c_i / r_i) over bins, where r_i and
 *   c_i are the reference and current shares of bin i.
 *   Binning: quantile bins of the *reference* — interior edges are the reference quantiles at
 *   k/bins, k = 1..bins-1 (numpy's default linear interpolation), duplicates removed (heavy ties
 *   give fewer bins) — inside the reference range [min, max], plus two open-ended bins for values
 *   below the reference minimum and above its maximum. Those edge bins are empty in the reference, so
 *   mass the reference never reached is not hidden in its top or bottom bin (20 % of the current
 *   values on a never-seen high value reads PSI ≈ 1.5, not 0.07). Inside the range bins are closed on
 *   the left: x falls in [e_k, e_{k+1}) (numpy `searchsorted(edges, x, side='right')`).
 *   Empty bins: a share of exactly 0 is replaced by epsilon = 1e-4 (in that sample only, without
 *   renormalising) so the logarithm stays finite; this is the convention of Evidently and most
 *   PSI implementations. Rule of thumb: < 0.1 no significant change, 0.1–0.25 moderate, > 0.25 major.
 * - `categoricalPsi`: the same sum over the reference's categories plus one bin holding every
 *   category the reference never saw.
 * - `wassersteinDistance`: first Wasserstein (earth mover's) distance between the two empirical
 *   distributions, = integral |F_a - F_b| dx (`scipy.stats.wasserstein_distance(a, b)`).
 * - `normalisedWasserstein(reference, current)`: W / std(reference), the standard deviation with
 *   ddof = 0 (numpy's default), floored at 0.001 so a constant reference does not divide by zero —
 *   Evidently's "wasserstein" drift measure (drift when >= 0.1, i.e. a shift of 0.1 reference sd).
 * - `jensenShannonDistance`: sqrt of the Jensen–Shannon divergence with log base 2 (so in [0, 1]);
 *   equals `scipy.spatial.distance.jensenshannon(p, q, base=2)`. Inputs are normalised to sum 1.
 */
import { assertFiniteArray, isSortedSample, pairwiseSum } from './special.js';

/** PSI's replacement share for an empty bin. */
export const PSI_EPSILON = 1e-4;

/** A sorted copy, checked; a Float64Array already in order and finite (sorted once by the caller for several tests) is used as it is. */
function sortedFloat64(values: Sample, what: string): Float64Array {
  if (values instanceof Float64Array && isSortedSample(values, true)) return values;
  assertFiniteArray(values, what);
  return Float64Array.from(values).sort();
}

/** A sample: any array of numbers, or a Float64Array (taken as it is when already sorted). */
type Sample = readonly number[] | Float64Array;

/** numpy's default ("linear", type 7) quantile of sorted data, with numpy's lerp rounding. */
export function quantileLinear(sorted: ArrayLike<number>, q: number): number {
  const n = sorted.length;
  if (n === 0) return NaN;
  const vi = (n - 1) * q;
  const prev = Math.min(Math.max(Math.floor(vi), 0), n - 1);
  const next = Math.min(prev + 1, n - 1);
  const gamma = vi - prev;
  // prev and next are clamped to [0, n - 1] with n > 0.
  const a = sorted[prev]!;
  const b = sorted[next]!;
  const diff = b - a;
  return gamma >= 0.5 ? b - diff * (1 - gamma) : a + diff * gamma;
}

/** Number of edges <= x (numpy `searchsorted(edges, x, side='right')`). */
function binIndex(edges: readonly number[], x: number): number {
  let lo = 0;
  let hi = edges.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1; // lo <= mid < hi <= edges.length
    if (edges[mid]! <= x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

export interface PsiDetails {
  psi: number;
  /** interior bin edges (reference quantiles, deduplicated) */
  edges: number[];
  /** the reference range; values outside it fall in the first (below) and last (above) bins */
  range: [number, number];
  /** per-bin shares before the epsilon replacement: [below min, interior bins…, above max] */
  reference_shares: number[];
  current_shares: number[];
  /** per-bin contributions (c - r) ln(c / r) after the epsilon replacement */
  contributions: number[];
}

/** PSI with its per-bin breakdown (see the module comment for the binning and epsilon rules). */
export function populationStabilityIndexDetails(reference: Sample, current: Sample, options: { bins?: number } = {}): PsiDetails {
  const bins = options.bins ?? 10;
  if (!Number.isInteger(bins) || bins < 1) throw new RangeError(`populationStabilityIndex: bins must be a positive integer (got ${bins})`);
  if (reference.length === 0 || current.length === 0) throw new RangeError('populationStabilityIndex: empty sample');
  const ref = sortedFloat64(reference, 'reference');
  assertFiniteArray(current, 'current');
  const edges: number[] = [];
  for (let k = 1; k < bins; k++) {
    const e = quantileLinear(ref, k / bins);
    if (edges.length === 0 || e !== edges[edges.length - 1]) edges.push(e);
  }
  // ref is non-empty (checked above); bin() returns an index in [0, nb).
  const lo = ref[0]!;
  const hi = ref[ref.length - 1]!;
  // bin 0: below the reference minimum; 1..edges.length+1: interior; last: above the maximum
  const nb = edges.length + 3;
  const bin = (x: number) => (x < lo ? 0 : x > hi ? nb - 1 : 1 + binIndex(edges, x));
  const refCounts = new Array<number>(nb).fill(0);
  const curCounts = new Array<number>(nb).fill(0);
  for (const x of ref) {
    const b = bin(x);
    refCounts[b] = refCounts[b]! + 1;
  }
  for (const x of current) {
    const b = bin(x);
    curCounts[b] = curCounts[b]! + 1;
  }
  const reference_shares = refCounts.map((c) => c / ref.length);
  const current_shares = curCounts.map((c) => c / current.length);
  const contributions = psiTerms(reference_shares, current_shares);
  return { psi: pairwiseSum(contributions), edges, range: [lo, hi], reference_shares, current_shares, contributions };
}

function psiTerms(reference: readonly number[], current: readonly number[]): number[] {
  if (current.length !== reference.length) {
    throw new Error(`psiTerms: ${reference.length} reference bins vs ${current.length} current bins`);
  }
  return reference.map((r0, i) => {
    const r = r0 === 0 ? PSI_EPSILON : r0;
    const c0 = current[i]!; // same length, checked above
    const c = c0 === 0 ? PSI_EPSILON : c0;
    return (c - r) * Math.log(c / r);
  });
}

/**
 * PSI of categorical counts (or shares): one bin per reference category plus one bin for all the
 * categories the reference never saw. Counts must be finite and >= 0 with positive totals.
 */
export function categoricalPsi(referenceCounts: Readonly<Record<string, number>>, currentCounts: Readonly<Record<string, number>>): number {
  const cats = Object.keys(referenceCounts).sort();
  const total = (r: Readonly<Record<string, number>>) => Object.values(r).reduce((s, v) => s + v, 0);
  const rt = total(referenceCounts);
  const ct = total(currentCounts);
  if (!(rt > 0) || !(ct > 0)) throw new RangeError('categoricalPsi: both samples need a positive total count');
  const r = [...cats.map((k) => referenceCounts[k]! / rt), 0]; // k is one of its own keys
  let unseen = 0;
  for (const [k, v] of Object.entries(currentCounts)) if (!(k in referenceCounts)) unseen += v;
  const c = [...cats.map((k) => (currentCounts[k] ?? 0) / ct), unseen / ct];
  return pairwiseSum(psiTerms(r, c));
}

/** Population Stability Index of `current` against `reference` on `bins` reference-quantile bins. */
export function populationStabilityIndex(reference: Sample, current: Sample, options: { bins?: number } = {}): number {
  return populationStabilityIndexDetails(reference, current, options).psi;
}

/** First Wasserstein distance between two samples (`scipy.stats.wasserstein_distance`). */
export function wassersteinDistance(a: Sample, b: Sample): number {
  if (a.length === 0 || b.length === 0) throw new RangeError('wassersteinDistance: empty sample');
  const u = sortedFloat64(a, 'a');
  const v = sortedFloat64(b, 'b');
  const nu = u.length;
  const nv = v.length;
  // Merge walk over the distinct pooled values x_0 < x_1 < ...: between x_k and x_{k+1} both
  // ECDFs are constant (right-continuous: every value <= x_k counted), contributing
  // |F_u(x_k) - F_v(x_k)| * (x_{k+1} - x_k).
  // Every u[i] / v[j] read is guarded by i < nu / j < nv, or by the loop condition when the other
  // sample is exhausted (j >= nv implies i < nu).
  const terms = new Float64Array(nu + nv);
  let nTerms = 0;
  let i = 0;
  let j = 0;
  while (i < nu || j < nv) {
    const x = j >= nv || (i < nu && u[i]! <= v[j]!) ? u[i]! : v[j]!;
    while (i < nu && u[i]! <= x) i++;
    while (j < nv && v[j]! <= x) j++;
    if (i === nu && j === nv) break;
    const next = j >= nv || (i < nu && u[i]! <= v[j]!) ? u[i]! : v[j]!;
    terms[nTerms++] = Math.abs(i / nu - j / nv) * (next - x);
  }
  return pairwiseSum(terms, 0, nTerms);
}

/**
 * Wasserstein distance in units of the reference standard deviation (ddof = 0), with the
 * standard deviation floored at 0.001 (Evidently's normalisation).
 */
export function normalisedWasserstein(reference: readonly number[], current: readonly number[], sorted?: { reference: Float64Array; current: Float64Array }): number {
  // The distance needs only the sorted samples; the standard deviation is summed in the sample's own order.
  const w = wassersteinDistance(sorted?.reference ?? reference, sorted?.current ?? current);
  const n = reference.length;
  let mean = 0;
  for (const x of reference) mean += x;
  mean /= n;
  let ss = 0;
  for (const x of reference) ss += (x - mean) ** 2;
  const sd = Math.sqrt(ss / n);
  return w / Math.max(sd, 0.001);
}

function alignDistributions(p: Readonly<Record<string, number>> | readonly number[], q: Readonly<Record<string, number>> | readonly number[]): [number[], number[]] {
  if (Array.isArray(p) !== Array.isArray(q)) {
    throw new TypeError('jensenShannonDistance: p and q must both be arrays or both be records');
  }
  if (Array.isArray(p)) {
    const qa = q as readonly number[];
    if (p.length !== qa.length) throw new RangeError(`jensenShannonDistance: lengths differ (${p.length} vs ${qa.length})`);
    return [[...p], [...qa]];
  }
  const pr = p as Readonly<Record<string, number>>;
  const qr = q as Readonly<Record<string, number>>;
  const keys = [...new Set([...Object.keys(pr), ...Object.keys(qr)])].sort();
  return [keys.map((k) => pr[k] ?? 0), keys.map((k) => qr[k] ?? 0)];
}

/** x * ln(x / y) with scipy's `rel_entr` conventions (0 when x = 0; +inf when y = 0 < x). */
function relEntr(x: number, y: number): number {
  if (x > 0 && y > 0) return x * Math.log(x / y);
  if (x === 0 && y >= 0) return 0;
  return Infinity;
}

/**
 * Jensen–Shannon distance between two discrete distributions (arrays aligned by index, or
 * records aligned by key with missing keys = 0). Inputs are normalised to sum to 1, so counts
 * are fine. Base 2 by default (result in [0, 1]).
 */
export function jensenShannonDistance(p: Readonly<Record<string, number>> | readonly number[], q: Readonly<Record<string, number>> | readonly number[], options: { base?: number } = {}): number {
  const base = options.base ?? 2;
  const [pa, qa] = alignDistributions(p, q);
  if (pa.length === 0) throw new RangeError('jensenShannonDistance: empty distributions');
  for (const [arr, what] of [
    [pa, 'p'],
    [qa, 'q'],
  ] as const) {
    arr.forEach((x, i) => {
      if (!Number.isFinite(x) || x < 0) throw new RangeError(`jensenShannonDistance: ${what}[${i}] = ${x}`);
    });
  }
  const ps = pairwiseSum(pa);
  const qs = pairwiseSum(qa);
  if (!(ps > 0) || !(qs > 0)) throw new RangeError('jensenShannonDistance: a distribution sums to 0');
  const left: number[] = [];
  const right: number[] = [];
  // alignDistributions returns arrays of equal length.
  for (let i = 0; i < pa.length; i++) {
    const pi = pa[i]! / ps;
    const qi = qa[i]! / qs;
    const m = (pi + qi) / 2;
    left.push(relEntr(pi, m));
    right.push(relEntr(qi, m));
  }
  const js = (pairwiseSum(left) + pairwiseSum(right)) / Math.log(base);
  // rounding can leave a (-1e-17)-sized negative divergence for identical inputs
  return Math.sqrt(Math.max(js / 2, 0));
}
