/**
 * The seed's CI/CD and retraining endpoints (`/api/v1/mlops/cicd/…`, `/api/v1/mlops/retraining/…`)
 * plus pipeline runs, their stages and diffs under `/api/v1/pipelines/…`.
 */
import type { FastifyPluginAsync } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { VitalsError } from '../errors.js';
import type { Services } from '../server/app.js';
import { cicdRequestSchema } from './cicd-request.js';
import { RETRAIN_TRIGGERS, retrainingPolicySchema } from './retraining.js';

const actorOf = (headers: Record<string, unknown>, fallback: string) => (headers['x-actor'] as string | undefined) ?? fallback;

export function pipelineRoutes(s: Services): FastifyPluginAsync {
  return async (base) => {
    const app = base.withTypeProvider<ZodTypeProvider>();
    const p = s.pipelines;
    const tags = ['pipelines'];

    app.post('/api/v1/mlops/cicd/run-pipeline', {
      schema: {
        tags,
        summary: 'Queue a CI/CD run: data collection → validation → training → model validation → testing → A/B → deployment → monitoring setup',
        body: cicdRequestSchema.extend({ pipeline_file: z.string().optional().describe('or run a dvc.yaml on the server (model_name is then a label)') }).partial({ model_name: true }),
      },
    }, async (req, reply) => {
      const { pipeline_file, ...body } = req.body;
      if (pipeline_file) return reply.code(201).send(await p.runFile(pipeline_file, { actor: actorOf(req.headers, 'api') }));
      if (!body.model_name) throw new VitalsError('VALIDATION_FAILED', 'model_name is required (or pipeline_file)');
      const run = await p.submitCicd(body, { trigger: 'api', actor: actorOf(req.headers, 'api') });
      return reply.code(202).send(run);
    });

    app.get('/api/v1/mlops/cicd/pipeline-history', {
      schema: { tags, summary: 'Pipeline runs, newest first, with every stage', querystring: z.object({ model_id: z.string().optional(), limit: z.coerce.number().int().min(1).max(1000).default(50) }) },
    }, async (req) => {
      const runs = await p.runs.list({ model: req.query.model_id, limit: req.query.limit });
      return { runs, total: runs.length };
    });

    app.get('/api/v1/mlops/cicd/check-retrain/:model_id', { schema: { tags, summary: 'Would Vitals retrain this model now, and why', params: z.object({ model_id: z.string() }) } }, async (req) =>
      p.retraining.check(req.params.model_id),
    );

    app.get('/api/v1/pipelines/runs/:run_id', { schema: { tags, summary: 'One run: status, stages (logs, durations, artefacts), result', params: z.object({ run_id: z.string() }) } }, async (req) => p.runs.get(req.params.run_id));
    app.get('/api/v1/pipelines/diff', {
      schema: { tags, summary: 'params diff and metrics diff between two runs', querystring: z.object({ a: z.string(), b: z.string(), all: z.coerce.boolean().default(false) }) },
    }, async (req) => p.diff(req.query.a, req.query.b, { all: req.query.all }));
    app.get('/api/v1/pipelines/jobs', { schema: { tags, summary: 'The job queue', querystring: z.object({ status: z.enum(['queued', 'running', 'done', 'failed']).optional() }) } }, async (req) => ({ jobs: await p.queue.list({ status: req.query.status }) }));

    const modelBody = z.object({ model_id: z.string().min(1) });
    app.post('/api/v1/mlops/retraining/start', {
      schema: { tags, summary: 'Enable automated retraining of a model (drift, decay, schedule, manual)', body: modelBody.extend(retrainingPolicySchema.shape).partial({ triggers: true, pipeline: true }) },
    }, async (req) => {
      const { model_id, ...policy } = req.body;
      return p.retraining.start(model_id, policy);
    });
    app.post('/api/v1/mlops/retraining/stop', { schema: { tags, summary: 'Disable automated retraining of a model', body: modelBody } }, async (req) => p.retraining.stop(req.body.model_id));
    app.post('/api/v1/mlops/retraining/trigger', {
      schema: {
        tags,
        summary: 'Start a retraining run now (debounced: an incident key already used returns its run)',
        body: modelBody.extend({ trigger: z.enum(RETRAIN_TRIGGERS).default('manual'), reason: z.string().optional(), incident_key: z.string().optional(), pipeline: z.record(z.string(), z.unknown()).optional() }),
      },
    }, async (req, reply) => {
      const r = await p.retraining.trigger(req.body.model_id, req.body.trigger, { reason: req.body.reason, incidentKey: req.body.incident_key, actor: actorOf(req.headers, 'api'), overrides: req.body.pipeline });
      return reply.code(r.debounced ? 200 : 202).send({ run_id: r.run.id, status: r.run.status, debounced: r.debounced, reason: r.reason, run: r.run });
    });
    app.get('/api/v1/mlops/retraining/history', {
      schema: { tags, summary: 'Retraining runs with trigger, data, result, new version and decision', querystring: z.object({ model_id: z.string().optional(), limit: z.coerce.number().int().min(1).max(1000).default(50) }) },
    }, async (req) => {
      const runs = await p.retraining.history({ model: req.query.model_id, limit: req.query.limit });
      return {
        history: runs.map((r) => ({
          run_id: r.id,
          model: r.model_name,
          trigger: r.trigger,
          trigger_reason: r.result.trigger_reason ?? null,
          status: r.status,
          decision: r.result.decision ?? null,
          reason: r.result.reason ?? null,
          data_rows: r.result.data_rows ?? null,
          data_sha256: r.result.data_sha256 ?? null,
          previous_version: r.result.previous_production_version ?? null,
          new_version: r.result.new_version ?? null,
          ab_test_id: r.result.ab_test_id ?? null,
          validation: r.result.validation ?? null,
          created_at: r.created_at,
          finished_at: r.finished_at,
          duration_ms: r.duration_ms,
        })),
      };
    });
    app.get('/api/v1/mlops/retraining/stats', { schema: { tags, summary: 'Retraining runs summarised', querystring: z.object({ model_id: z.string().optional() }) } }, async (req) => p.retraining.stats(req.query.model_id));
  };
}
