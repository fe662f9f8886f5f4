/** Experiment tracking over HTTP: the tracker's calls, so a Python training script can log with plain requests. */
import type { FastifyPluginAsync } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { BODY_LIMITS, declare, errorResponses } from '../server/route-kit.js';
import type { ExperimentTracking } from './experiment-tracking.js';
import { FINISH_STATUSES } from './experiment-tracking.js';

export interface TrackingDeps {
  tracking: Pick<ExperimentTracking, 'listExperiments' | 'startRun' | 'getRun' | 'logConfig' | 'logTrainingStep' | 'logMetrics' | 'finish' | 'history' | 'listRuns' | 'bestRun' | 'compare'>;
}

const runParams = z.object({ run_id: z.string() });
/** a config, metric or tag name: not empty (the MLflow API reads the same runs and refuses empty keys) */
const name = z.string().min(1, 'a name, not empty');
const runView = z
  .object({
    id: z.string(),
    experiment: z.string(),
    name: z.string().nullable(),
    status: z.enum(['running', 'completed', 'failed', 'killed']),
    config: z.record(z.string(), z.unknown()),
    metrics: z.record(z.string(), z.number()),
    tags: z.record(z.string(), z.string()),
    started_at: z.string(),
    ended_at: z.string().nullable(),
  })
  .describe('TrackingRun');
const ok = z.object({ ok: z.literal(true) });

export function trackingRoutes({ tracking }: TrackingDeps): FastifyPluginAsync {
  return async (base) => {
    const app = base.withTypeProvider<ZodTypeProvider>();
    const tags = ['tracking'];
    const R = declare('tracking:read');
    const W = declare('tracking:write');
    app.get(
      '/api/v1/tracking/experiments',
      {
        ...R,
        schema: {
          tags,
          summary: 'Experiments and their run counts',
          response: { 200: z.object({ experiments: z.array(z.object({ name: z.string(), runs: z.number(), created_at: z.string() })) }), ...errorResponses() },
        },
      },
      async () => ({ experiments: await tracking.listExperiments() }),
    );
    app.post(
      '/api/v1/tracking/runs',
      {
        ...W,
        schema: {
          tags,
          summary: 'Start a run',
          body: z.object({ experiment: z.string().min(1), name: z.string().optional(), config: z.record(name, z.unknown()).optional(), tags: z.record(name, z.string()).optional() }),
          response: { 201: runView, ...errorResponses() },
        },
      },
      async (req, reply) => reply.code(201).send(await tracking.startRun(req.body.experiment, req.body)),
    );
    app.get('/api/v1/tracking/runs/:run_id', { ...R, schema: { tags, summary: 'A run', params: runParams, response: { 200: runView, ...errorResponses(404) } } }, async (req) =>
      tracking.getRun(req.params.run_id),
    );
    app.post(
      '/api/v1/tracking/runs/:run_id/config',
      {
        ...W,
        schema: { tags, summary: 'log_model_config', params: runParams, body: z.record(name, z.unknown()), response: { 200: runView, ...errorResponses(404, 409) } },
      },
      async (req) => {
        await tracking.logConfig(req.params.run_id, req.body);
        return tracking.getRun(req.params.run_id);
      },
    );
    app.post(
      '/api/v1/tracking/runs/:run_id/steps',
      {
        ...W,
        schema: {
          tags,
          summary: 'log_training_step',
          params: runParams,
          body: z.object({ epoch: z.number().int().min(0), loss: z.number(), learning_rate: z.number().optional(), metrics: z.record(name, z.number()).optional() }),
          response: { 200: ok, ...errorResponses(404, 409) },
        },
      },
      async (req) => {
        await tracking.logTrainingStep(req.params.run_id, req.body.epoch, req.body.loss, req.body.learning_rate, req.body.metrics);
        return { ok: true as const };
      },
    );
    app.post(
      '/api/v1/tracking/runs/:run_id/metrics',
      {
        ...W,
        schema: {
          tags,
          summary: 'log_metrics',
          params: runParams,
          body: z.object({ metrics: z.record(name, z.number()), step: z.number().int().min(0).optional() }),
          response: { 200: ok, ...errorResponses(404, 409) },
        },
      },
      async (req) => {
        await tracking.logMetrics(req.params.run_id, req.body.metrics, req.body.step);
        return { ok: true as const };
      },
    );
    app.post(
      '/api/v1/tracking/runs/:run_id/finish',
      {
        ...W,
        schema: { tags, summary: 'finish', params: runParams, body: z.object({ status: z.enum(FINISH_STATUSES).default('completed') }), response: { 200: runView, ...errorResponses(404, 409) } },
      },
      async (req) => tracking.finish(req.params.run_id, req.body.status),
    );
    app.get(
      '/api/v1/tracking/runs/:run_id/history/:key',
      {
        ...R,
        schema: {
          tags,
          summary: 'One series (e.g. loss per epoch), in step order',
          params: z.object({ run_id: z.string(), key: z.string() }),
          response: { 200: z.object({ points: z.array(z.object({ step: z.number(), value: z.number() })) }), ...errorResponses(404) },
        },
      },
      async (req) => ({ points: await tracking.history(req.params.run_id, req.params.key) }),
    );
    app.get(
      '/api/v1/tracking/experiments/:name/runs',
      {
        ...R,
        schema: { tags, summary: "An experiment's runs, newest first", params: z.object({ name: z.string() }), response: { 200: z.object({ runs: z.array(runView) }), ...errorResponses(404) } },
      },
      async (req) => ({ runs: await tracking.listRuns(req.params.name) }),
    );
    app.get(
      '/api/v1/tracking/experiments/:name/best',
      {
        ...R,
        schema: {
          tags,
          summary: 'The best completed run by a metric',
          params: z.object({ name: z.string() }),
          querystring: z.object({ metric: z.string(), mode: z.enum(['max', 'min']).default('max') }),
          response: { 200: z.object({ run: runView.nullable() }), ...errorResponses(404) },
        },
      },
      async (req) => ({ run: await tracking.bestRun(req.params.name, req.query.metric, req.query.mode) }),
    );
    app.post(
      '/api/v1/tracking/compare',
      {
        ...declare('tracking:read', BODY_LIMITS.json),
        schema: {
          tags,
          summary: 'Compare runs: metrics side by side and the config keys that differ',
          body: z.object({ run_ids: z.array(z.string()).min(1) }),
          response: {
            200: z.object({
              runs: z.array(runView),
              metrics: z.record(z.string(), z.record(z.string(), z.number().nullable())),
              config_differences: z.record(z.string(), z.record(z.string(), z.unknown())),
            }),
            ...errorResponses(404),
          },
        },
      },
      async (req) => tracking.compare(req.body.run_ids),
    );
  };
}
