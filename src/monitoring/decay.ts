/**
 * Model decay: quality over the labelled window against the version's baseline metrics (those it was
 * registered with). Decay is detected when baseline − current accuracy exceeds MODEL_DECAY_THRESHOLD
 * with at least `minLabels` labels; below that there is no verdict.
 */
import { classificationMetrics } from '../stats/classification-metrics.js';

export interface DecayResult {
  labels: number;
  min_labels: number;
  sufficient: boolean;
  decay_detected: boolean;
  current_accuracy: number | null;
  baseline_accuracy: number | null;
  accuracy_decay: number | null;
  current: { accuracy: number; precision: number; recall: number; f1: number } | null;
  baseline: Record<string, number>;
  /** mean top-class probability over the whole window: the expected accuracy of a calibrated model without labels */
  estimated_accuracy: number | null;
}

export function computeDecay(
  labelled: Array<{ prediction: string | null; ground_truth: string | null }>,
  options: { labels: string[]; baseline: Record<string, number>; threshold: number; minLabels: number; estimatedAccuracy: number | null },
): DecayResult {
  const rows = labelled.filter((r) => r.prediction !== null && r.ground_truth !== null);
  const baselineAccuracy = options.baseline.accuracy ?? null;
  const base = { labels: rows.length, min_labels: options.minLabels, baseline: options.baseline, baseline_accuracy: baselineAccuracy, estimated_accuracy: options.estimatedAccuracy };
  if (rows.length === 0) {
    return { ...base, sufficient: false, decay_detected: false, current_accuracy: null, accuracy_decay: null, current: null };
  }
  // Binary metrics treat the second label (e.g. "malignant", "PNEUMONIA", "1") as positive.
  const positive = options.labels[1] ?? '1';
  const classOf = (v: string) => (v === positive ? 1 : 0);
  const m = classificationMetrics(rows.map((r) => classOf(r.ground_truth!)), rows.map((r) => classOf(r.prediction!)));
  // Accuracy compares labels directly, so it is right for any number of classes.
  const accuracy = rows.filter((r) => r.prediction === r.ground_truth).length / rows.length;
  const sufficient = rows.length >= options.minLabels;
  const decay = baselineAccuracy === null ? null : baselineAccuracy - accuracy;
  return {
    ...base,
    sufficient,
    decay_detected: sufficient && decay !== null && decay > options.threshold,
    current_accuracy: accuracy,
    accuracy_decay: decay,
    current: { accuracy, precision: m.precision, recall: m.recall, f1: m.f1 },
  };
}
