/**
 * Classification metrics (pure functions). Definitions follow scikit-learn so
 * numbers can be compared with Python tooling:
 * - precision / recall / F1 are 0 when their denominator is 0
 *   (sklearn's zero_division=0 behaviour, minus the warning);
 * - ROC AUC is the Mann–Whitney statistic with average ranks for ties, which
 *   equals sklearn.metrics.roc_auc_score (trapezoidal area under the ROC curve).
 */

export interface ClassificationMetrics {
  accuracy: number;
  precision: number;
  recall: number;
  f1: number;
  /** Absent when no scores are given or yTrue holds only one class (AUC undefined). */
  roc_auc?: number;
}

function checkLengths(yTrue: readonly number[], yPred: readonly number[], scores?: readonly unknown[]): void {
  if (yTrue.length !== yPred.length || (scores && scores.length !== yTrue.length)) {
    throw new Error(`length mismatch: yTrue ${yTrue.length}, yPred ${yPred.length}` + (scores ? `, scores ${scores.length}` : ''));
  }
  if (yTrue.length === 0) throw new Error('cannot compute metrics on zero samples');
}

function accuracyOf(yTrue: readonly number[], yPred: readonly number[]): number {
  let correct = 0;
  for (let i = 0; i < yTrue.length; i++) if (yTrue[i] === yPred[i]) correct++;
  return correct / yTrue.length;
}

function ratio(num: number, den: number): number {
  return den === 0 ? 0 : num / den;
}

/** Precision, recall and F1 of one class treated as positive. */
function oneVsRest(yTrue: readonly number[], yPred: readonly number[], positive: number) {
  let tp = 0;
  let fp = 0;
  let fn = 0;
  for (let i = 0; i < yTrue.length; i++) {
    const actual = yTrue[i] === positive;
    const predicted = yPred[i] === positive;
    if (actual && predicted) tp++;
    else if (predicted) fp++;
    else if (actual) fn++;
  }
  const precision = ratio(tp, tp + fp);
  const recall = ratio(tp, tp + fn);
  return { precision, recall, f1: ratio(2 * tp, 2 * tp + fp + fn) };
}

/**
 * Area under the ROC curve for binary labels (`isPositive[i]`) and scores
 * (higher = more likely positive), via the rank-sum (Mann–Whitney U) formula:
 * AUC = (sum of positive ranks - nPos(nPos+1)/2) / (nPos * nNeg),
 * with tied scores sharing their average rank (a tie counts as half a win).
 * Returns undefined if either class is absent.
 */
export function rocAuc(isPositive: readonly boolean[], scores: readonly number[]): number | undefined {
  const n = scores.length;
  if (isPositive.length !== n) throw new Error(`length mismatch: ${isPositive.length} labels, ${n} scores`);
  let nPos = 0;
  for (const p of isPositive) if (p) nPos++;
  const nNeg = n - nPos;
  if (nPos === 0 || nNeg === 0) return undefined;

  // order is a permutation of 0..n-1 and start <= end < n, so every index below is in range.
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => scores[a]! - scores[b]!);
  let positiveRankSum = 0;
  for (let start = 0; start < n; ) {
    let end = start;
    const s = scores[order[start]!];
    while (end + 1 < n && scores[order[end + 1]!] === s) end++;
    const averageRank = (start + end) / 2 + 1; // ranks are 1-based
    for (let k = start; k <= end; k++) if (isPositive[order[k]!]) positiveRankSum += averageRank;
    start = end + 1;
  }
  return (positiveRankSum - (nPos * (nPos + 1)) / 2) / (nPos * nNeg);
}

/**
 * Binary classification metrics. `scores[i]` is the model's score or
 * probability for the positive class; `positive` is the label value of that class.
 */
export function classificationMetrics(yTrue: readonly number[], yPred: readonly number[], scores?: readonly number[], positive = 1): ClassificationMetrics {
  checkLengths(yTrue, yPred, scores);
  const metrics: ClassificationMetrics = {
    accuracy: accuracyOf(yTrue, yPred),
    ...oneVsRest(yTrue, yPred, positive),
  };
  if (scores) {
    const auc = rocAuc(
      yTrue.map((y) => y === positive),
      scores,
    );
    if (auc !== undefined) metrics.roc_auc = auc;
  }
  return metrics;
}

/**
 * Multi-class metrics with macro averaging (unweighted mean over classes), as
 * sklearn's average='macro' (over the classes seen in yTrue or yPred). With
 * `probabilities` (one row per sample, one column per class 0..nClasses-1),
 * roc_auc is the macro one-vs-rest AUC, like roc_auc_score(...,
 * multi_class='ovr', average='macro'); classes absent from yTrue are skipped
 * (sklearn raises instead).
 */
export function multiclassMetrics(yTrue: readonly number[], yPred: readonly number[], nClasses: number, probabilities?: readonly (readonly number[])[]): ClassificationMetrics {
  checkLengths(yTrue, yPred, probabilities);
  // Like sklearn, average over the classes that occur in yTrue or yPred.
  const present = [...new Set([...yTrue, ...yPred])];
  let precision = 0;
  let recall = 0;
  let f1 = 0;
  for (const c of present) {
    const m = oneVsRest(yTrue, yPred, c);
    precision += m.precision;
    recall += m.recall;
    f1 += m.f1;
  }
  const metrics: ClassificationMetrics = {
    accuracy: accuracyOf(yTrue, yPred),
    precision: precision / present.length,
    recall: recall / present.length,
    f1: f1 / present.length,
  };
  if (probabilities) {
    const aucs: number[] = [];
    for (let c = 0; c < nClasses; c++) {
      const auc = rocAuc(
        yTrue.map((y) => y === c),
        probabilities.map((row, i) => {
          const prob = row[c];
          if (prob === undefined) throw new Error(`probabilities[${i}] has ${row.length} columns, expected ${nClasses}`);
          return prob;
        }),
      );
      if (auc !== undefined) aucs.push(auc);
    }
    if (aucs.length > 0) metrics.roc_auc = aucs.reduce((a, b) => a + b, 0) / aucs.length;
  }
  return metrics;
}
