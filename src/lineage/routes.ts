/**
 * `GET /api/v1/predictions/{id}/lineage` (patient-level context: `predictions:read`, and audited) and
 * `GET /api/v1/models/{name}/versions/{version}/lineage` (`models:read`).
 */
import type { FastifyPluginAsync } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { AccessRecorder } from '../audit/index.js';
import { auditContextOf } from '../server/principal.js';
import { BODY_LIMITS, anyObject, declare, errorResponses } from '../server/route-kit.js';
import type { Lineage } from './lineage.js';

export interface LineageRouteDeps {
  lineage: Pick<Lineage, 'ofPrediction' | 'ofVersion'>;
  /** a prediction's lineage is a read of patient-level context: each one writes its audit row */
  access: AccessRecorder;
}

const actor = {
  actor: z.string().describe('the actor the service recorded (a principal, `pipeline:<run>`, `demo`, `cli`)'),
  principal: z.string().nullable().describe('the authenticated principal, from the audit trail'),
  role: z.string().nullable(),
  request_id: z.string().nullable(),
};
const aliasMove = z
  .object({
    ...actor,
    at: z.string(),
    action: z.string(),
    alias: z.string().nullable(),
    from_version: z.string().nullable(),
    to_version: z.string().nullable(),
    reason: z.string().nullable(),
  })
  .describe('AliasMove');
const runLineage = z
  .object({
    id: z.string(),
    pipeline: z.string(),
    trigger: z.string(),
    status: z.string(),
    decision: z.string().nullable(),
    started_by: z.object(actor),
    created_at: z.string(),
    finished_at: z.string().nullable(),
    params: anyObject,
    metrics: z.record(z.string(), z.number()),
    stages: z.array(z.object({ name: z.string(), status: z.string() })),
  })
  .describe('PipelineRunLineage');
const dataLineage = z
  .object({
    sha256: z.string().nullable().describe('sha256 of the data set as trained on'),
    source: z.string().nullable().describe('file, folder, prediction_log or inline'),
    path: z.string().nullable(),
    rows: z.number().nullable(),
    train_rows: z.number().nullable(),
    holdout_rows: z.number().nullable(),
    files: z.array(z.object({ path: z.string(), sha256: z.string(), rows: z.number() })),
    window: z.object({ predictions: z.number(), oldest_id: z.string().nullable(), newest_id: z.string().nullable() }).nullable(),
  })
  .describe('TrainingData');
export const versionLineageView = z
  .object({
    model: z.string(),
    model_id: z.string(),
    version: z.string(),
    version_id: z.string(),
    status: z.string(),
    aliases: z.array(z.string()),
    registered: z.object({ ...actor, at: z.string() }),
    artifact: z.object({ sha256: z.string(), size_bytes: z.number(), media_type: z.literal('application/onnx') }),
    training: z.object({
      kind: z.enum(['pipeline', 'trainer', 'mlflow', 'registered']),
      pipeline_run_id: z.string().nullable(),
      pipeline_run: runLineage.nullable(),
      tracking_run: z.object({ id: z.string(), experiment: z.string(), name: z.string().nullable(), status: z.string(), config: anyObject, metrics: z.record(z.string(), z.number()) }).nullable(),
      mlflow_run_id: z.string().nullable(),
    }),
    data: dataLineage.nullable(),
    params: anyObject,
    metrics: z.record(z.string(), z.number()),
    parent_version: z.string().nullable(),
    promoted_to_production: aliasMove.nullable(),
    alias_history: z.array(aliasMove),
  })
  .describe('VersionLineage');
export const predictionLineageView = z
  .object({
    prediction: z.object({
      id: z.string(),
      created_at: z.string(),
      model: z.string(),
      version: z.string().nullable(),
      version_id: z.string().nullable(),
      variant: z.string().nullable(),
      source: z.string(),
      request_id: z.string().nullable(),
      prediction: z.string().nullable(),
      confidence: z.number().nullable(),
      error: z.string().nullable(),
      shadow_of: z.string().nullable(),
    }),
    release_test: z
      .object({
        id: z.string(),
        name: z.string(),
        mode: z.string(),
        status: z.string(),
        control_version: z.string(),
        treatment_version: z.string(),
        winner: z.string().nullable(),
        decision_reason: z.string().nullable(),
      })
      .nullable(),
    model_version: versionLineageView.nullable(),
  })
  .describe('PredictionLineage');

export function lineagePlugin(deps: LineageRouteDeps): FastifyPluginAsync {
  const { lineage, access } = deps;
  return async (base) => {
    const app = base.withTypeProvider<ZodTypeProvider>();
    app.get(
      '/api/v1/predictions/:id/lineage',
      {
        ...declare('predictions:read', BODY_LIMITS.none),
        schema: {
          tags: ['monitoring'],
          summary: 'Where a prediction came from: the version that answered (release test, variant), its artifact, training run, data, params, metrics and who promoted it',
          params: z.object({ id: z.string().min(1).max(200) }),
          response: { 200: predictionLineageView, ...errorResponses(404) },
        },
      },
      async (req) => {
        const out = await lineage.ofPrediction(req.params.id);
        await access.recordAccess({
          action: 'prediction.lineage_read',
          target: `prediction:${out.prediction.id}`,
          context: auditContextOf(req),
          details: { model: out.prediction.model, version: out.prediction.version },
        });
        return out;
      },
    );
    app.get(
      '/api/v1/models/:name/versions/:version/lineage',
      {
        ...declare('models:read', BODY_LIMITS.none),
        schema: {
          tags: ['registry'],
          summary: 'Where a version came from: artifact, training run, data (hash, path, rows), params, metrics, alias history with who, when and why',
          params: z.object({ name: z.string(), version: z.string().describe('semantic version, alias or version id') }),
          response: { 200: versionLineageView, ...errorResponses(404) },
        },
      },
      async (req) => lineage.ofVersion(req.params.name, req.params.version),
    );
  };
}
