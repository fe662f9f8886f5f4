/**
 * Checks a request's features against the version's input spec and encodes them as one float32 row.
 * Every problem is reported at once so a caller can fix a request in one go.
 */
import { type FieldProblem, validationFailed } from '../errors.js';
import type { FeatureSpec, TabularInputSpec } from '../registry/index.js';

export type Features = Record<string, unknown>;

function encodeFeature(spec: FeatureSpec, value: unknown, field: string, problems: FieldProblem[]): number {
  if (value === undefined || value === null || value === '') {
    if (spec.required) problems.push({ field, message: 'is required' });
    return Number.NaN; // tree ensembles route NaN as missing; linear models should declare required
  }
  switch (spec.type) {
    case 'boolean': {
      if (typeof value === 'boolean') return value ? 1 : 0;
      if (value === 0 || value === 1) return value;
      problems.push({ field, message: `must be true or false, got ${JSON.stringify(value)}` });
      return Number.NaN;
    }
    case 'category': {
      const idx = spec.categories?.indexOf(String(value)) ?? -1;
      if (idx < 0) problems.push({ field, message: `must be one of ${JSON.stringify(spec.categories ?? [])}, got ${JSON.stringify(value)}` });
      return idx;
    }
    default: {
      const n = typeof value === 'number' ? value : typeof value === 'string' && value.trim() !== '' ? Number(value) : Number.NaN;
      if (!Number.isFinite(n)) {
        problems.push({ field, message: `must be a finite number, got ${JSON.stringify(value)}` });
        return Number.NaN;
      }
      if (spec.type === 'integer' && !Number.isInteger(n)) problems.push({ field, message: `must be an integer, got ${n}` });
      if (spec.min !== undefined && n < spec.min) problems.push({ field, message: `must be ≥ ${spec.min}, got ${n}` });
      if (spec.max !== undefined && n > spec.max) problems.push({ field, message: `must be ≤ ${spec.max}, got ${n}` });
      return n;
    }
  }
}

/** Validates rows of features; throws 422 naming every bad field (prefixed by row index for batches). */
export function encodeTabularRows(spec: TabularInputSpec, rows: Features[], batch = rows.length > 1): Float32Array {
  const width = spec.features.length;
  const out = new Float32Array(rows.length * width);
  const problems: FieldProblem[] = [];
  const known = new Set(spec.features.map((f) => f.name));
  rows.forEach((row, r) => {
    const prefix = batch ? `instances[${r}].` : 'features.';
    if (typeof row !== 'object' || row === null || Array.isArray(row)) {
      problems.push({ field: prefix.slice(0, -1), message: 'must be an object of feature name → value' });
      return;
    }
    spec.features.forEach((f, c) => {
      out[r * width + c] = encodeFeature(f, row[f.name], prefix + f.name, problems);
    });
    for (const key of Object.keys(row)) {
      if (!known.has(key)) problems.push({ field: prefix + key, message: `is not a feature of this model (expected: ${[...known].join(', ')})` });
    }
  });
  if (problems.length) throw validationFailed(problems, 'features do not match the model input spec');
  return out;
}
