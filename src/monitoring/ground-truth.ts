/**
 * Ground truth rules: a label must be one the model can predict (its output_spec labels), or a
 * number for a regression model; a prediction that already has a different label is only
 * relabelled when the caller says `overwrite` (the old value goes to the audit trail and back
 * to the caller as `previous`). A label derived from a radiology report (source `report`) is
 * weaker than one given by a person or system: it never replaces theirs, and theirs replaces it
 * without `overwrite`; a corrected report replaces the first report's label.
 */
import { VitalsError } from '../errors.js';
import type { ModelRegistry } from '../registry/index.js';

/** What a prediction's model can be labelled with. */
export interface LabelSpace {
  task: 'classification' | 'regression';
  labels: string[];
}

/** Looks up the label space of a prediction's model (its version when known); null when it cannot be known. */
export type LabelSpaceOf = (prediction: { model_id: string; version_id: string | null }) => Promise<LabelSpace | null>;

/** The label as stored (text), or a 422 naming what is allowed. */
export function checkLabel(space: LabelSpace | null, value: string | number, model: string): string {
  const text = String(value);
  if (!space) return text;
  if (space.task === 'regression') {
    if (typeof value === 'number' ? Number.isFinite(value) : text.trim() !== '' && Number.isFinite(Number(text))) return String(Number(text));
    throw new VitalsError('INVALID_LABEL', `ground truth ${JSON.stringify(value)} is not a number: model "${model}" is a regression model, send a number`, {
      task: 'regression',
    });
  }
  if (space.labels.includes(text)) return text;
  throw new VitalsError('INVALID_LABEL', `ground truth ${JSON.stringify(value)} is not a label of model "${model}": send one of ${space.labels.join(', ')}`, {
    allowed_labels: space.labels,
  });
}

export const labelConflict = (predictionId: string, current: string, next: string) =>
  new VitalsError(
    'GROUND_TRUTH_EXISTS',
    `prediction "${predictionId}" already has ground truth "${current}": send overwrite: true to replace it with "${next}" (the old value is kept in the audit trail)`,
    { current },
  );

export const reportLabelRefused = (predictionId: string, current: string, source: string, next: string) =>
  new VitalsError(
    'GROUND_TRUTH_EXISTS',
    `prediction "${predictionId}" keeps its ground truth "${current}" (given by ${source}): the report's label "${next}" does not replace a label a person or system gave`,
    { current, source },
  );

/**
 * The label space from the registry: the prediction's version's labels, or (a prediction recorded
 * without a version) the labels of any of the model's versions; null when the model is gone.
 */
export function registryLabelSpace(registry: Pick<ModelRegistry, 'getModel' | 'getVersion' | 'listVersions'>): LabelSpaceOf {
  return async ({ model_id, version_id }) => {
    const model = await registry.getModel(model_id).catch(() => null);
    if (!model) return null;
    const versions = version_id ? [await registry.getVersion(version_id)] : await registry.listVersions(model_id);
    if (!versions.length) return null;
    return { task: model.task, labels: [...new Set(versions.flatMap((v) => v.output_spec.labels))] };
  };
}
