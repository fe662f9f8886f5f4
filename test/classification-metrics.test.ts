import { describe, expect, it } from 'vitest';
import { classificationMetrics, multiclassMetrics, rocAuc } from '../src/stats/classification-metrics.js';

// Reference values from scikit-learn 1.9.1 (accuracy_score, precision_score with
// zero_division=0, recall_score, f1_score, roc_auc_score), computed once in a
// throwaway venv and hard-coded here. The AUCs are also checked by hand.
describe('classificationMetrics (binary)', () => {
  it('matches sklearn on a case with tied scores', () => {
    const yTrue = [0, 0, 1, 1, 0, 1, 1, 0];
    const yPred = [0, 1, 1, 1, 0, 0, 1, 0];
    const scores = [0.1, 0.4, 0.35, 0.8, 0.4, 0.4, 0.9, 0.2];
    // tp=3 fp=1 fn=1 tn=3. AUC by hand: positive 0.35 beats 2 negatives, 0.8 and 0.9
    // beat 4 each, 0.4 beats 2 and ties 2 (half each) -> (2+4+3+4)/16 = 0.8125.
    expect(classificationMetrics(yTrue, yPred, scores)).toEqual({
      accuracy: 0.75,
      precision: 0.75,
      recall: 0.75,
      f1: 0.75,
      roc_auc: 0.8125,
    });
  });

  it('gives AUC 0.5 when all scores tie, and handles zero division', () => {
    const m = classificationMetrics([0, 1, 0, 1], [1, 1, 1, 1], [0.5, 0.5, 0.5, 0.5]);
    expect(m).toEqual({ accuracy: 0.5, precision: 0.5, recall: 1, f1: 2 / 3, roc_auc: 0.5 });
    const none = classificationMetrics([0, 1], [0, 0]); // nothing predicted positive
    expect(none).toEqual({ accuracy: 0.5, precision: 0, recall: 0, f1: 0 });
  });

  it('gives AUC 1 for a perfect ranking and 0 for an inverted one', () => {
    expect(classificationMetrics([0, 0, 1, 1], [0, 0, 1, 1], [0.1, 0.2, 0.8, 0.9]).roc_auc).toBe(1);
    expect(classificationMetrics([0, 0, 1, 1], [1, 1, 0, 0], [0.9, 0.8, 0.2, 0.1])).toEqual({
      accuracy: 0,
      precision: 0,
      recall: 0,
      f1: 0,
      roc_auc: 0,
    });
  });

  it('supports another positive label', () => {
    const yTrue = [2, 5, 5, 2, 2, 5, 2];
    const yPred = [2, 5, 2, 2, 5, 5, 5];
    const scoresFor2 = [0.9, 0.1, 0.6, 0.7, 0.3, 0.3, 0.2];
    const m = classificationMetrics(yTrue, yPred, scoresFor2, 2);
    expect(m.accuracy).toBeCloseTo(0.5714285714285714, 12);
    expect(m.precision).toBeCloseTo(0.6666666666666666, 12);
    expect(m.recall).toBe(0.5);
    expect(m.f1).toBeCloseTo(0.5714285714285714, 12);
    expect(m.roc_auc).toBeCloseTo(0.7083333333333334, 12);
  });

  it('omits roc_auc when only one class is present, and checks lengths', () => {
    expect(classificationMetrics([1, 1], [1, 0], [0.9, 0.2]).roc_auc).toBeUndefined();
    expect(rocAuc([true, true], [0.1, 0.2])).toBeUndefined();
    expect(() => classificationMetrics([1, 0], [1])).toThrow(/length mismatch/);
  });
});

describe('multiclassMetrics (macro)', () => {
  it('matches sklearn average="macro" and multi_class="ovr"', () => {
    const yTrue = [0, 1, 2, 2, 1, 0, 2, 1, 0];
    const yPred = [0, 2, 2, 1, 1, 0, 2, 0, 0];
    const probs = [
      [0.7, 0.2, 0.1],
      [0.2, 0.3, 0.5],
      [0.1, 0.2, 0.7],
      [0.2, 0.5, 0.3],
      [0.1, 0.8, 0.1],
      [0.6, 0.3, 0.1],
      [0.2, 0.2, 0.6],
      [0.5, 0.4, 0.1],
      [0.4, 0.3, 0.3],
    ];
    const m = multiclassMetrics(yTrue, yPred, 3, probs);
    expect(m.accuracy).toBeCloseTo(0.6666666666666666, 12);
    expect(m.precision).toBeCloseTo(0.6388888888888888, 12);
    expect(m.recall).toBeCloseTo(0.6666666666666666, 12);
    expect(m.f1).toBeCloseTo(0.6412698412698412, 12);
    expect(m.roc_auc).toBeCloseTo(0.8981481481481483, 12);
  });
});
