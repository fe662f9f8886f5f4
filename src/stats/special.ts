/**
 * Small numerical helpers shared by the statistical tests in `src/stats/`.
 *
 * Every upper-tail probability here is computed *directly* from an upper
 * special function (regularised upper incomplete gamma, erfc, incomplete beta)
 * rather than as `1 - cdf`, so p-values far below machine epsilon (1e-30,
 * 1e-200, ...) keep their relative accuracy instead of collapsing to 0.
 */
import erfc from '@stdlib/math-base-special-erfc';
import normalQuantile from '@stdlib/stats-base-dists-normal-quantile';
import { regularizedGammaQ } from './incomplete-gamma.js';

/** Survival function of the chi-square distribution, P(X >= x), X ~ chi2(dof). */
export function chi2Sf(x: number, dof: number): number {
  if (Number.isNaN(x) || Number.isNaN(dof) || dof <= 0) return NaN;
  if (x <= 0) return 1;
  if (x === Infinity) return 0;
  // Q(dof/2, x/2): the upper regularised incomplete gamma (accurate to 1e-12 up to 10⁶ dof).
  return regularizedGammaQ(dof / 2, x / 2);
}

/** Upper tail of the standard normal, P(Z >= z), via erfc (accurate deep in the tail). */
export function normalSf(z: number): number {
  return 0.5 * erfc(z / Math.SQRT2);
}

/** Two-sided normal p-value 2 * P(Z >= |z|) (as statsmodels / scipy compute it). */
export function normalTwoSidedPValue(z: number): number {
  if (Number.isNaN(z)) return NaN;
  return erfc(Math.abs(z) / Math.SQRT2);
}

/** Standard normal quantile. */
export function normalPpf(p: number): number {
  return normalQuantile(p, 0, 1);
}

/** Round half to even, like numpy's `np.round` / Python 3's `round` on floats. */
export function roundHalfEven(x: number): number {
  if (!Number.isFinite(x)) return x;
  const r = Math.round(x); // rounds .5 up (towards +inf)
  if (Math.abs(x - Math.trunc(x)) === 0.5) {
    // exact tie: choose the even neighbour
    const lo = Math.floor(x);
    return lo % 2 === 0 ? lo : lo + 1;
  }
  return r;
}

/** Greatest common divisor of two non-negative integers. */
export function gcd(a: number, b: number): number {
  while (b !== 0) {
    const t = a % b;
    a = b;
    b = t;
  }
  return a;
}

/** x * 2^e without intermediate overflow/underflow of 2^e for large |e|. */
export function ldexp(x: number, e: number): number {
  if (x === 0 || !Number.isFinite(x)) return x;
  while (e > 1000) {
    x *= 2 ** 1000;
    e -= 1000;
    if (!Number.isFinite(x)) return x;
  }
  while (e < -1000) {
    x *= 2 ** -1000;
    e += 1000;
    if (x === 0) return x;
  }
  return x * 2 ** e;
}

/** Asserts every value is a finite number; `what` names the argument in the error. */
/**
 * Is `v` in ascending order with no NaN, and (with `finite`) no infinity either? A caller's sample
 * sorted once for several tests is then used as it is instead of being copied and sorted again.
 */
export function isSortedSample(v: Float64Array, finite: boolean): boolean {
  for (let i = 1; i < v.length; i++) if (!(v[i - 1]! <= v[i]!)) return false; // NaN fails the comparison
  if (v.length === 0) return true;
  return finite ? Number.isFinite(v[0]!) && Number.isFinite(v[v.length - 1]!) : !Number.isNaN(v[0]!);
}

export function assertFiniteArray(values: ArrayLike<number>, what: string): void {
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (typeof v !== 'number' || !Number.isFinite(v)) {
      throw new RangeError(`${what}[${i}] is not a finite number (${String(v)})`);
    }
  }
}

/** Asserts every value is a finite, non-negative number (a count or frequency). */
export function assertCounts(values: ArrayLike<number>, what: string): void {
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) {
      throw new RangeError(`${what}[${i}] must be a finite, non-negative number (got ${String(v)})`);
    }
  }
}

/**
 * numpy's pairwise summation for float64 contiguous arrays (blocks of 128 summed with 8
 * accumulators, recursion above that), so sums agree with `np.sum` to the last bit in most cases.
 */
export function pairwiseSum(values: ArrayLike<number>, start = 0, n = values.length - start): number {
  // Callers keep start + n <= values.length, so every index read is in range.
  if (n < 8) {
    let res = 0;
    for (let i = start; i < start + n; i++) res += values[i]!;
    return res;
  }
  if (n <= 128) {
    // numpy's eight accumulators r[0..7], as locals.
    let r0 = values[start]!;
    let r1 = values[start + 1]!;
    let r2 = values[start + 2]!;
    let r3 = values[start + 3]!;
    let r4 = values[start + 4]!;
    let r5 = values[start + 5]!;
    let r6 = values[start + 6]!;
    let r7 = values[start + 7]!;
    let i = 8;
    for (; i < n - (n % 8); i += 8) {
      const b = start + i;
      r0 += values[b]!;
      r1 += values[b + 1]!;
      r2 += values[b + 2]!;
      r3 += values[b + 3]!;
      r4 += values[b + 4]!;
      r5 += values[b + 5]!;
      r6 += values[b + 6]!;
      r7 += values[b + 7]!;
    }
    let res = r0 + r1 + (r2 + r3) + (r4 + r5 + (r6 + r7));
    for (; i < n; i++) res += values[start + i]!;
    return res;
  }
  let n2 = Math.floor(n / 2);
  n2 -= n2 % 8;
  return pairwiseSum(values, start, n2) + pairwiseSum(values, start + n2, n - n2);
}
