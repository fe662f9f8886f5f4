/**
 * Always-valid inference for A/B tests: the mixture sequential probability ratio test (mSPRT) of
 * Johari, Koomen, Pekelis & Walsh, "Always Valid Inference: Continuous Monitoring of A/B Tests"
 * (Operations Research, 2022; KDD 2017 "Peeking at A/B tests"), normal-mixture version.
 *
 * Setting: at each look n we have an estimate θ̂_n of the effect θ (difference of two proportions
 * or two means, B - A) that is approximately N(θ, V_n), V_n being the variance of the estimate
 * (e.g. pA(1-pA)/nA + pB(1-pB)/nB). Mixing the likelihood ratio against H0: θ = θ0 over the prior
 * θ ~ N(θ0, τ²) gives
 *
 *   Λ_n = sqrt(V_n / (V_n + τ²)) * exp( τ² (θ̂_n - θ0)² / (2 V_n (V_n + τ²)) ),
 *
 * a nonnegative martingale under H0 with mean 1, so by Ville's inequality P(sup_n Λ_n >= 1/α) <= α.
 * The always-valid p-value is p_n = min(p_{n-1}, 1 / Λ_n), p_0 = 1: rejecting when p_n < α keeps
 * the type I error at α no matter how often (or when) the results are checked. (With V_n = 2σ²/n
 * this is exactly the paper's two-stream formula sqrt(2σ²/(2σ²+nτ²)) exp(n²τ²Δ²/(4σ²(2σ²+nτ²))).)
 * Plug-in variances (rather than known σ²) make the guarantee asymptotic, as in the paper and in
 * Optimizely's implementation.
 *
 * Inverting the test gives the always-valid confidence sequence
 *   θ̂_n ± sqrt( V_n (V_n + τ²) / τ² * (2 ln(1/α) + ln((V_n + τ²) / V_n)) ).
 *
 * Choice of τ² (the default): τ² is in effect units squared, so no universal constant exists.
 * `msprtTau2(plannedVariance, alpha)` picks the τ² that makes the confidence sequence narrowest
 * when V_n equals `plannedVariance`, the variance of the estimate at the sample size you expect to
 * stop at (e.g. the fixed-horizon sample size): with r = τ²/V the half-width² is
 * V (1 + 1/r)(2 ln(1/α) + ln(1 + r)), minimised where r = 2 ln(1/α) + ln(1 + r)
 * (r ≈ 8.21 for α = 0.05). This matches the papers' advice to tune τ to the scale of plausible
 * effects at the intended horizon (GrowthBook's "tuning parameter" N* plays the same role).
 * `AlwaysValidPValue` uses it when given `plannedVariance` instead of `tau2`.
 */
import type { SummaryStats } from './welch.js';

export interface MsprtLook {
  /** effect estimate θ̂ (B - A) */
  diff: number;
  /** variance of the effect estimate (squared standard error) */
  variance: number;
  /** mixing variance τ² of the normal prior on the effect (> 0) */
  tau2: number;
  /** null effect θ0 (default 0) */
  theta0?: number;
}

/** ln Λ for one look (see the module comment). */
export function msprtLogLikelihoodRatio({ diff, variance, tau2, theta0 = 0 }: MsprtLook): number {
  if (!(tau2 > 0) || !Number.isFinite(tau2)) throw new RangeError(`msprt: tau2 must be positive (got ${tau2})`);
  if (!Number.isFinite(diff) || !(variance >= 0) || !Number.isFinite(variance)) {
    throw new RangeError(`msprt: need a finite diff and a finite variance >= 0 (got ${diff}, ${variance})`);
  }
  const delta = diff - theta0;
  if (variance === 0) return delta === 0 ? 0 : Infinity; // no noise: a non-null difference is certain
  const vt = variance + tau2;
  return 0.5 * Math.log(variance / vt) + (tau2 * delta * delta) / (2 * variance * vt);
}

/** The single-look mSPRT p-value min(1, 1/Λ). Use `AlwaysValidPValue` to carry the running minimum. */
export function msprtPValue(look: MsprtLook): number {
  const logLambda = msprtLogLikelihoodRatio(look);
  return logLambda <= 0 ? 1 : Math.exp(-logLambda);
}

/** Always-valid (1 - alpha) confidence interval for the effect at one look. */
export function msprtConfidenceInterval(look: MsprtLook & { alpha?: number }): [number, number] {
  const { diff, variance, tau2, alpha = 0.05 } = look;
  msprtLogLikelihoodRatio(look); // validates
  const vt = variance + tau2;
  const half = variance === 0 ? 0 : Math.sqrt(((variance * vt) / tau2) * (2 * Math.log(1 / alpha) + Math.log(vt / variance)));
  return [diff - half, diff + half];
}

/**
 * τ² minimising the width of the always-valid confidence sequence when the variance of the
 * estimate equals `plannedVariance`: τ² = r V with r = 2 ln(1/α) + ln(1 + r).
 */
export function msprtTau2(plannedVariance: number, alpha = 0.05): number {
  if (!(plannedVariance > 0)) throw new RangeError(`msprtTau2: plannedVariance must be positive (got ${plannedVariance})`);
  if (!(alpha > 0 && alpha < 1)) throw new RangeError(`msprtTau2: alpha must be in (0, 1) (got ${alpha})`);
  const L = 2 * Math.log(1 / alpha);
  let r = L + Math.log(1 + L);
  for (let i = 0; i < 50; i++) r = L + Math.log(1 + r); // contraction (derivative 1/(1+r) < 1)
  return r * plannedVariance;
}

/** Effect estimate and variance for a difference of proportions pB - pA (unpooled variance). */
export function proportionDiffEstimate(successA: number, nA: number, successB: number, nB: number): { diff: number; variance: number } {
  if (!(nA > 0 && nB > 0)) throw new RangeError('proportionDiffEstimate: sample sizes must be positive');
  const pA = successA / nA;
  const pB = successB / nB;
  return { diff: pB - pA, variance: (pA * (1 - pA)) / nA + (pB * (1 - pB)) / nB };
}

/** Effect estimate and variance for a difference of means mean(b) - mean(a). */
export function meanDiffEstimate(a: SummaryStats, b: SummaryStats): { diff: number; variance: number } {
  return { diff: b.mean - a.mean, variance: a.variance / a.n + b.variance / b.n };
}

export interface AlwaysValidOptions {
  /** mixing variance τ²; alternatively give `plannedVariance` */
  tau2?: number;
  /** variance of the effect estimate at the planned horizon; τ² = msprtTau2(plannedVariance, alpha) */
  plannedVariance?: number;
  /** only used with `plannedVariance` (and for `significant`), default 0.05 */
  alpha?: number;
  /** null effect (default 0) */
  theta0?: number;
}

/**
 * Running always-valid p-value: feed the cumulative effect estimate after every batch; the
 * p-value is the running minimum of 1/Λ_n, so it never increases and may be checked at any time.
 */
export class AlwaysValidPValue {
  readonly tau2: number;
  readonly alpha: number;
  readonly theta0: number;
  private p = 1;
  private n = 0;
  private lastInterval: [number, number] = [-Infinity, Infinity];
  private ci: [number, number] = [-Infinity, Infinity];

  constructor(options: AlwaysValidOptions) {
    this.alpha = options.alpha ?? 0.05;
    this.theta0 = options.theta0 ?? 0;
    if (options.tau2 !== undefined) this.tau2 = options.tau2;
    else if (options.plannedVariance !== undefined) this.tau2 = msprtTau2(options.plannedVariance, this.alpha);
    else throw new RangeError('AlwaysValidPValue: give tau2 or plannedVariance');
    if (!(this.tau2 > 0)) throw new RangeError(`AlwaysValidPValue: tau2 must be positive (got ${this.tau2})`);
  }

  /** Records one look (cumulative estimate so far) and returns the updated always-valid p-value. */
  update(look: { diff: number; variance: number }): number {
    const full = { ...look, tau2: this.tau2, theta0: this.theta0 };
    this.p = Math.min(this.p, msprtPValue(full));
    this.lastInterval = msprtConfidenceInterval({ ...full, alpha: this.alpha });
    // the running intersection of the intervals is also always valid
    this.ci = [Math.max(this.ci[0], this.lastInterval[0]), Math.min(this.ci[1], this.lastInterval[1])];
    this.n++;
    return this.p;
  }

  /** Current always-valid p-value (1 before any look). */
  get pvalue(): number {
    return this.p;
  }

  /** Number of looks so far. */
  get looks(): number {
    return this.n;
  }

  /** p-value < alpha. */
  get significant(): boolean {
    return this.p < this.alpha;
  }

  /** Running intersection of the always-valid (1 - alpha) confidence intervals. */
  get confidenceInterval(): [number, number] {
    return [...this.ci];
  }
}
