/**
 * Confidence-based performance estimation (CBPE) of a binary classifier before labels arrive, as
 * NannyML defines it (nannyml.performance_estimation.confidence_based, v0.13):
 *
 * 1. Calibrate on the labelled reference: isotonic regression of the true class on the model's
 *    score (pool-adjacent-violators, predictions clipped to the fitted range = sklearn's
 *    `IsotonicRegression(out_of_bounds='clip')`). Skipped, as in NannyML, when the reference holds
 *    one class or its ROC AUC exceeds 0.999.
 * 2. On an unlabelled window, the calibrated probability p_i is the chance that row i is positive,
 *    so the expected confusion matrix follows: TP = Σ_{ŷ=1} p_i, TN = Σ_{ŷ=0} (1 − p_i), and
 *    accuracy ≈ (TP + TN) / n.
 * 3. ROC AUC ≈ the area under the expected ROC curve: rows sorted by the model's own score
 *    (descending), expected true positives cumsum(p), false positives rank − cumsum(p), each rounded
 *    to 5 decimals as NannyML does, trapezoidal area.
 * The band is NannyML's: ± 3 sampling errors, with the accuracy's sampling error
 * std(correct on the reference) / √n.
 * NannyML also skips calibration when cross-validated calibration error does not improve; we always
 * calibrate otherwise — on well-calibrated scores isotonic calibration changes little (checked in
 * test/services/cbpe-nannyml.test.ts against NannyML on calibrated and miscalibrated data).
 */
import { rocAuc } from './classification-metrics.js';
import { roundHalfEven } from './special.js';

/** A fitted isotonic (non-decreasing) map from score to probability. */
export interface IsotonicFit {
  /** block boundaries: scores x_k and fitted values y_k, both non-decreasing */
  x: number[];
  y: number[];
}

/** Pool-adjacent-violators fit of y on x (sklearn's IsotonicRegression with ties averaged). */
export function fitIsotonic(x: readonly number[], y: readonly number[]): IsotonicFit {
  if (x.length !== y.length || x.length === 0) throw new RangeError('fitIsotonic: x and y must be non-empty and the same length');
  const order = x.map((_, i) => i).sort((a, b) => x[a]! - x[b]!);
  // ties in x are merged first (sklearn averages y over equal x)
  const xs: number[] = [];
  const sums: number[] = [];
  const weights: number[] = [];
  for (const i of order) {
    const xi = x[i]!;
    if (xs.length && xs[xs.length - 1] === xi) {
      sums[sums.length - 1]! += y[i]!;
      weights[weights.length - 1]! += 1;
    } else {
      xs.push(xi);
      sums.push(y[i]!);
      weights.push(1);
    }
  }
  // PAV over the distinct x values
  const blockMean: number[] = [];
  const blockWeight: number[] = [];
  const blockStart: number[] = [];
  for (let k = 0; k < xs.length; k++) {
    blockMean.push(sums[k]! / weights[k]!);
    blockWeight.push(weights[k]!);
    blockStart.push(k);
    while (blockMean.length > 1 && blockMean[blockMean.length - 2]! > blockMean[blockMean.length - 1]!) {
      const w = blockWeight.pop()!;
      const m = blockMean.pop()!;
      blockStart.pop();
      const j = blockMean.length - 1;
      blockMean[j] = (blockMean[j]! * blockWeight[j]! + m * w) / (blockWeight[j]! + w);
      blockWeight[j]! += w;
    }
  }
  const fitted = new Array<number>(xs.length);
  for (let b = 0; b < blockStart.length; b++) {
    const end = b + 1 < blockStart.length ? blockStart[b + 1]! : xs.length;
    for (let k = blockStart[b]!; k < end; k++) fitted[k] = blockMean[b]!;
  }
  return { x: xs, y: fitted };
}

/** The fitted value at `s`: linear interpolation between fitted points, clipped outside (sklearn). */
export function predictIsotonic(fit: IsotonicFit, s: number): number {
  const { x, y } = fit;
  if (s <= x[0]!) return y[0]!;
  if (s >= x[x.length - 1]!) return y[y.length - 1]!;
  let lo = 0;
  let hi = x.length - 1;
  while (hi - lo > 1) {
    const mid = (lo + hi) >>> 1;
    if (x[mid]! <= s) lo = mid;
    else hi = mid;
  }
  const t = (s - x[lo]!) / (x[hi]! - x[lo]!);
  return y[lo]! + t * (y[hi]! - y[lo]!);
}

export interface CbpeModel {
  calibration: IsotonicFit | null;
  /** std of "correct" on the reference (NannyML's accuracy sampling-error component) */
  reference_accuracy_std: number;
  reference: { n: number; accuracy: number; roc_auc: number | null };
}

export interface CbpeEstimate {
  n: number;
  accuracy: number;
  accuracy_band: [number, number];
  roc_auc: number | null;
}

/**
 * Fits CBPE on the reference: `scores` are the model's probability of the positive class,
 * `predictions` its 0/1 decisions, `truth` the 0/1 labels.
 */
export function fitCbpe(scores: readonly number[], predictions: readonly number[], truth: readonly number[]): CbpeModel {
  const n = scores.length;
  if (n === 0 || predictions.length !== n || truth.length !== n) throw new RangeError('fitCbpe: scores, predictions and truth must be non-empty and the same length');
  const correct = truth.map((t, i) => (t === predictions[i] ? 1 : 0));
  const accuracy = correct.reduce((a: number, b) => a + b, 0) / n;
  const sd = Math.sqrt(correct.reduce((a: number, c) => a + (c - accuracy) ** 2, 0) / n); // numpy std, ddof 0
  const auc =
    rocAuc(
      truth.map((t) => t === 1),
      [...scores],
    ) ?? null;
  const oneClass = truth.every((t) => t === truth[0]);
  const calibration = oneClass || (auc !== null && auc > 0.999) ? null : fitIsotonic(scores, truth);
  return { calibration, reference_accuracy_std: sd, reference: { n, accuracy, roc_auc: auc } };
}

/** NannyML's expected-ROC area (rows ordered by the model's score, calibrated probabilities as labels). */
export function expectedRocAuc(calibrated: readonly number[], scores: readonly number[]): number | null {
  const n = scores.length;
  // numpy argsort(...)[::-1]: quicksort is not stable, but ties in the score give tied ROC steps either way
  const order = scores
    .map((_, i) => i)
    .sort((a, b) => scores[a]! - scores[b]! || a - b)
    .reverse();
  const r5 = (v: number) => roundHalfEven(v * 1e5) / 1e5;
  const tps = [0];
  const fps = [0];
  let cum = 0;
  order.forEach((i, k) => {
    cum += calibrated[i]!;
    tps.push(r5(cum));
    fps.push(r5(k + 1 - cum));
  });
  const tpTotal = tps[n]!;
  const fpTotal = fps[n]!;
  if (!(tpTotal > 0) || !(fpTotal > 0)) return null;
  let area = 0;
  for (let k = 1; k <= n; k++) area += ((fps[k]! - fps[k - 1]!) / fpTotal) * ((tps[k]! + tps[k - 1]!) / tpTotal / 2);
  return area;
}

/** Estimated accuracy (with its band) and ROC AUC of an unlabelled window. */
export function estimateCbpe(model: CbpeModel, scores: readonly number[], predictions: readonly number[]): CbpeEstimate {
  const n = scores.length;
  if (n === 0 || predictions.length !== n) throw new RangeError('estimateCbpe: scores and predictions must be non-empty and the same length');
  const p = scores.map((s) => (model.calibration ? predictIsotonic(model.calibration, s) : s));
  let expectedCorrect = 0;
  for (let i = 0; i < n; i++) expectedCorrect += predictions[i] === 1 ? p[i]! : 1 - p[i]!;
  const accuracy = expectedCorrect / n;
  const se = model.reference_accuracy_std / Math.sqrt(n);
  return { n, accuracy, accuracy_band: [Math.max(0, accuracy - 3 * se), Math.min(1, accuracy + 3 * se)], roc_auc: expectedRocAuc(p, scores) };
}
