/**
 * Conversion-rate (proportion) statistics for A/B tests.
 *
 * Sign convention: `diff` and `ci95` are for pB - pA (treatment minus control), while `z`
 * follows statsmodels `proportions_ztest([successA, successB], [nA, nB])`, i.e. z = (pA - pB) / se
 * (so z < 0 when B converts better). The p-value is two-sided and unaffected by the sign.
 */
import { chiSquareContingency, chiSquareGoodnessOfFit } from './chi-square.js';
import type { ChiSquareResult } from './chi-square.js';
import { normalPpf, normalSf, normalTwoSidedPValue } from './special.js';

export interface TwoProportionZTestResult {
  /** (pA - pB) / sqrt(p(1-p)(1/nA + 1/nB)) with the pooled p — statsmodels' sign */
  z: number;
  /** two-sided p-value, 2 * P(Z >= |z|) */
  pvalue: number;
  /** pB - pA */
  diff: number;
  /** unpooled Wald 95% interval for pB - pA: diff ± 1.96 sqrt(pA(1-pA)/nA + pB(1-pB)/nB) */
  ci95: [number, number];
}

function checkProportionArgs(what: string, successA: number, nA: number, successB: number, nB: number): void {
  for (const [name, v] of [
    ['successA', successA],
    ['nA', nA],
    ['successB', successB],
    ['nB', nB],
  ] as const) {
    if (!Number.isFinite(v) || v < 0) throw new RangeError(`${what}: ${name} must be a finite number >= 0 (got ${v})`);
  }
  if (nA <= 0 || nB <= 0) throw new RangeError(`${what}: sample sizes must be positive`);
  if (successA > nA || successB > nB) throw new RangeError(`${what}: successes cannot exceed the sample size`);
}

/**
 * Pooled two-proportion z-test, two-sided — statsmodels `proportions_ztest(count=[successA,
 * successB], nobs=[nA, nB])` — plus the unpooled Wald interval of pB - pA (statsmodels
 * `confint_proportions_2indep(successB, nB, successA, nA, method='wald')`).
 * Degenerate case: when the pooled rate is 0 or 1 (no successes or no failures anywhere) the
 * standard error is 0 and statsmodels returns NaN; here z = 0 and p = 1 (no evidence of a difference).
 */
export function twoProportionZTest(successA: number, nA: number, successB: number, nB: number): TwoProportionZTestResult {
  checkProportionArgs('twoProportionZTest', successA, nA, successB, nB);
  const pA = successA / nA;
  const pB = successB / nB;
  const pooled = (successA + successB) / (nA + nB);
  const se = Math.sqrt(pooled * (1 - pooled) * (1 / nA + 1 / nB));
  const diffAB = pA - pB;
  let z: number;
  let pvalue: number;
  if (se === 0) {
    z = 0;
    pvalue = 1;
  } else {
    z = diffAB / se;
    pvalue = normalTwoSidedPValue(z);
  }
  const diff = pB - pA;
  const half = normalPpf(0.975) * Math.sqrt((pA * (1 - pA)) / nA + (pB * (1 - pB)) / nB);
  return { z, pvalue, diff, ci95: [diff - half, diff + half] };
}

/**
 * Chi-square test on the 2x2 table [[successA, nA - successA], [successB, nB - successB]]
 * (`scipy.stats.chi2_contingency`, Yates' correction by default). When a column is all zero
 * (no successes or no failures in either arm) SciPy raises; here the result is statistic 0, p 1.
 */
export function chiSquare2x2(successA: number, nA: number, successB: number, nB: number, options: { correction?: boolean } = {}): ChiSquareResult {
  checkProportionArgs('chiSquare2x2', successA, nA, successB, nB);
  const successes = successA + successB;
  const failures = nA - successA + (nB - successB);
  if (successes === 0 || failures === 0) return { statistic: 0, pvalue: 1, dof: 1 };
  const { statistic, pvalue, dof } = chiSquareContingency(
    [
      [successA, nA - successA],
      [successB, nB - successB],
    ],
    options,
  );
  return { statistic, pvalue, dof };
}

/** p-value below which `sampleRatioMismatch` flags a mismatch (GrowthBook's default). */
export const SRM_THRESHOLD = 0.001;

export interface SampleRatioMismatchResult {
  statistic: number;
  pvalue: number;
  dof: number;
  /** pvalue < 0.001 */
  mismatch: boolean;
}

/**
 * Sample ratio mismatch check: chi-square goodness of fit of the observed per-variant counts
 * against the intended traffic split (`expectedWeights`, any positive scale, e.g. [50, 50] or
 * [0.8, 0.2]). Flags a mismatch when p < 0.001.
 */
export function sampleRatioMismatch(observed: readonly number[], expectedWeights: readonly number[], options: { threshold?: number } = {}): SampleRatioMismatchResult {
  if (observed.length !== expectedWeights.length) {
    throw new RangeError(`sampleRatioMismatch: ${observed.length} counts vs ${expectedWeights.length} weights`);
  }
  if (observed.length < 2) throw new RangeError('sampleRatioMismatch: need at least two variants');
  const wSum = expectedWeights.reduce((s, w) => s + w, 0);
  for (const w of expectedWeights) {
    if (!Number.isFinite(w) || w <= 0) throw new RangeError(`sampleRatioMismatch: weights must be positive (got ${w})`);
  }
  const total = observed.reduce((s, v) => s + v, 0);
  if (!(total > 0)) throw new RangeError('sampleRatioMismatch: no observations');
  const expected = expectedWeights.map((w) => (w / wSum) * total);
  const { statistic, pvalue, dof } = chiSquareGoodnessOfFit(observed, expected);
  return { statistic, pvalue, dof, mismatch: pvalue < (options.threshold ?? SRM_THRESHOLD) };
}

export interface SampleSizeOptions {
  /** two-sided significance level (default 0.05) */
  alpha?: number;
  /** 1 - type II error rate (default 0.8) */
  power?: number;
  /**
   * 'absolute' (default): the treatment rate is baseline + mde (mde in rate units, e.g. 0.01 = one
   * percentage point); 'relative': baseline * (1 + mde) (e.g. 0.05 = a 5% lift).
   */
  mdeType?: 'absolute' | 'relative';
}

/** Cohen's h = 2 asin(sqrt(p1)) - 2 asin(sqrt(p2)) (statsmodels `proportion_effectsize(p1, p2)`). */
export function cohensH(p1: number, p2: number): number {
  return 2 * (Math.asin(Math.sqrt(p1)) - Math.asin(Math.sqrt(p2)));
}

/**
 * Power of the two-sided z-test on Cohen's h with n1 per arm and ratio 1 (statsmodels
 * `NormalIndPower().power(h, n1, alpha, ratio=1)`: both rejection tails counted).
 */
export function twoProportionPower(effectSize: number, nPerArm: number, alpha = 0.05): number {
  const crit = normalPpf(1 - alpha / 2);
  const shift = Math.abs(effectSize) * Math.sqrt(nPerArm / 2);
  return normalSf(crit - shift) + normalSf(crit + shift);
}

/**
 * Per-arm sample size n (not rounded) solving power(h, n) = power — what statsmodels'
 * `NormalIndPower().solve_power(effect_size=h, alpha, power, ratio=1)` returns.
 */
export function requiredSampleSizeExact(effectSize: number, alpha = 0.05, power = 0.8): number {
  const h = Math.abs(effectSize);
  if (!(h > 0)) throw new RangeError('requiredSampleSize: the effect size must be non-zero');
  if (!(alpha > 0 && alpha < 1)) throw new RangeError(`requiredSampleSize: alpha must be in (0, 1) (got ${alpha})`);
  if (!(power > alpha / 2 && power < 1)) throw new RangeError(`requiredSampleSize: power must be in (alpha/2, 1) (got ${power})`);
  const za = normalPpf(1 - alpha / 2);
  const zb = normalPpf(power);
  // One-tail closed form as the start; the far tail only adds power, so the root is at or below it.
  let hiN = (2 * (za + zb) ** 2) / (h * h);
  let loN = 0;
  if (twoProportionPower(h, hiN, alpha) < power) hiN *= 2; // cannot happen, but stay bracketed
  // Bisection on sqrt(n) is cheap and robust; 200 halvings reach double precision.
  for (let it = 0; it < 200; it++) {
    const mid = (loN + hiN) / 2;
    if (mid === loN || mid === hiN) break;
    if (twoProportionPower(h, mid, alpha) < power) loN = mid;
    else hiN = mid;
  }
  return hiN;
}

/**
 * Sample size per variant for a two-sided two-proportion test (ratio 1) to detect the change from
 * `baselineRate` by `minimumDetectableEffect` with the given power, via Cohen's h — statsmodels
 * `NormalIndPower().solve_power(proportion_effectsize(p2, p1), alpha=..., power=..., ratio=1)`,
 * rounded up.
 */
export function requiredSampleSize(baselineRate: number, minimumDetectableEffect: number, options: SampleSizeOptions = {}): number {
  const { alpha = 0.05, power = 0.8, mdeType = 'absolute' } = options;
  if (!(baselineRate > 0 && baselineRate < 1)) throw new RangeError(`requiredSampleSize: baselineRate must be in (0, 1) (got ${baselineRate})`);
  const target = mdeType === 'relative' ? baselineRate * (1 + minimumDetectableEffect) : baselineRate + minimumDetectableEffect;
  if (!(target >= 0 && target <= 1)) throw new RangeError(`requiredSampleSize: the target rate ${target} is outside [0, 1]`);
  return Math.ceil(requiredSampleSizeExact(cohensH(target, baselineRate), alpha, power));
}
